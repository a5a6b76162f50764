import { flattenMethods, getMethod, getPreset, hasMethod, hasPreset, listMethods, listPresets, type MethodInstance } from '@vpeft/core';
import { UsageError } from './errors';

/** How errors name a method spec as the user gave it: `--method lora:r=8`, `--task-method digits=lora:r=8`. */
export type SpecFlag = (spec: string) => string;

const methodFlag: SpecFlag = (spec) => `--method ${spec}`;

/**
 * Parses `--method` values into method instances: each is a method (see {@link parseMethodSpec}) or a
 * registered preset (`noah`, `noah:prompts=10|5|...`), which stands for the methods it composes.
 */
export function parseMethodSpecs(specs: readonly string[], where: SpecFlag = methodFlag): MethodInstance<object>[] {
  const instances = specs.map((spec) => ({ spec, methods: parseOneSpec(spec, where) }));
  // Two instances of one name cannot both hold parameters: say which flag to change and how.
  const given = new Map<string, string>();
  for (const { spec, methods } of instances) {
    for (const m of methods) {
      const earlier = given.get(m.name);
      if (earlier !== undefined) {
        const renamed = `${m.definition.name}:as=${m.name}2${spec.includes(':') ? `,${spec.slice(spec.indexOf(':') + 1)}` : ''}`;
        throw new UsageError(`${where(spec)}: a method instance named "${m.name}" is already given by ${where(earlier)}; name this one with as=NAME, e.g. ${where(renamed)}`);
      }
      given.set(m.name, spec);
    }
  }
  return instances.flatMap((i) => i.methods);
}

/** One `--method` value: a method, or a preset's methods. */
function parseOneSpec(spec: string, where: SpecFlag): MethodInstance<object>[] {
  const name = nameOf(spec);
  if (hasMethod(name) || !hasPreset(name)) return [methodFromSpec(spec, where)];
  const preset = getPreset(name);
  const { options } = parseOptions(spec, name, preset.defaults as Record<string, unknown>, where);
  try {
    return flattenMethods(preset.build(options));
  } catch (error) {
    throw new UsageError(`${where(spec)}: ${(error as Error).message}`);
  }
}

function nameOf(spec: string): string {
  const colon = spec.indexOf(':');
  return (colon < 0 ? spec : spec.slice(0, colon)).trim();
}

/**
 * Parses `--method` values: `name[:key=value,key=value...]`, e.g. `lora:r=8,alpha=16,slices=q|v`.
 * Values are typed by the option's default: numbers, booleans, lists (`|`-separated), strings.
 * An `as=<instance name>` key names the instance (to use one method twice).
 */
export function parseMethodSpec(spec: string): MethodInstance<object> {
  return methodFromSpec(spec, methodFlag);
}

/** {@link parseMethodSpec}, with errors naming the spec as `where` renders it. */
function methodFromSpec(spec: string, where: SpecFlag): MethodInstance<object> {
  const name = nameOf(spec);
  if (!hasMethod(name)) {
    const presets = listPresets();
    throw new UsageError(
      `unknown method "${name}" in ${where(spec)}; installed methods: ${listMethods().join(', ') || '(none: install @vpeft/method-*)'}${presets.length ? `; presets: ${presets.join(', ')}` : ''}`,
    );
  }
  const definition = getMethod(name);
  const { options, instanceName } = parseOptions(spec, name, definition.defaults as Record<string, unknown>, where);
  try {
    return definition.configure(options, { name: instanceName });
  } catch (error) {
    throw new UsageError(`${where(spec)}: ${(error as Error).message}`);
  }
}

/** The `key=value` pairs after `name:`, typed by `defaults`; `as=<name>` names the instance. */
function parseOptions(spec: string, name: string, defaults: Record<string, unknown>, where: SpecFlag): { options: Record<string, unknown>; instanceName?: string } {
  const colon = spec.indexOf(':');
  const options: Record<string, unknown> = {};
  let instanceName: string | undefined;
  const body = colon < 0 ? '' : spec.slice(colon + 1);
  for (const pair of body.split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`${where(spec)}: "${pair}" is not key=value`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    if (key === 'as') {
      instanceName = raw;
      continue;
    }
    if (!(key in defaults)) {
      throw new UsageError(`${where(spec)}: ${name} has no option "${key}"; options: ${Object.keys(defaults).join(', ')}`);
    }
    options[key] = coerce(raw, defaults[key], `${name}.${key}`);
  }
  return { options, instanceName };
}

function coerce(raw: string, example: unknown, label: string): unknown {
  if (Array.isArray(example)) return raw === '' ? [] : raw.split('|').map((v) => coerceScalar(v, example[0], label));
  return coerceScalar(raw, example, label);
}

function coerceScalar(raw: string, example: unknown, label: string): unknown {
  if (typeof example === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new UsageError(`${label} expects a number, got "${raw}"`);
    return n;
  }
  if (typeof example === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new UsageError(`${label} expects true or false, got "${raw}"`);
    return raw === 'true';
  }
  if (example === undefined || example === null) {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    const n = Number(raw);
    return raw !== '' && Number.isFinite(n) ? n : raw;
  }
  return raw;
}
