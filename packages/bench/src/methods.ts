import { compose, getMethod, hasMethod, listMethods, type MethodInput, type MethodInstance } from '@vpeft/core';
import { BenchSpecError } from './errors';
import { parseHyper, type HyperParameters } from './hyper';
import { describeValue, isRecord } from './values';

/** The linear probe: no method, only the new head trains. */
export const LINEAR_PROBE = 'linear';

/** One method with concrete option values (only the options the spec set; the rest are the method's defaults). */
export interface MethodComponent {
  method: string;
  options: Record<string, unknown>;
}

/** One row of the grid's method axis: a method, or a composition, with one value per option. */
export interface MethodVariant {
  /** Unique label, e.g. `lora r=4`, `linear`, or the composition's `name`. */
  label: string;
  /** What the variant is called without its option values (`lora`, `lora+vpt`): one plot colour each. */
  family: string;
  /** Methods composed in order; empty for the linear probe. */
  components: MethodComponent[];
  /** The hyper-parameters this variant selects from (the grid's, with the entry's `hyper` on top). */
  hyper: HyperParameters;
}

const ENTRY_KEYS = ['method', 'options', 'compose', 'name', 'hyper'];

/** All combinations of an option grid; a list is a grid axis unless the option's default is itself a list. */
function optionCombinations(method: string, grid: Record<string, unknown>, where: string): Record<string, unknown>[] {
  const defaults = getMethod(method).defaults as Record<string, unknown>;
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, value] of Object.entries(grid)) {
    if (!(key in defaults)) throw new BenchSpecError(`${where}: ${method} has no option "${key}"; options: ${Object.keys(defaults).join(', ') || '(none)'}`);
    const listValued = Array.isArray(defaults[key]);
    const axis = Array.isArray(value) && (!listValued || value.every(Array.isArray)) ? value : [value];
    if (axis.length === 0) throw new BenchSpecError(`${where}: option "${key}" has an empty list of values`);
    combos = combos.flatMap((c) => axis.map((v) => ({ ...c, [key]: v })));
  }
  for (const options of combos) configureOrThrow({ method, options }, where);
  return combos;
}

function configureOrThrow(component: MethodComponent, where: string): MethodInstance<object> {
  try {
    return getMethod(component.method).configure(component.options) as MethodInstance<object>;
  } catch (error) {
    throw new BenchSpecError(`${where}: ${(error as Error).message}`);
  }
}

function checkMethodName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !hasMethod(name)) {
    throw new BenchSpecError(`${where}: unknown method ${describeValue(name)}; installed: ${[LINEAR_PROBE, ...listMethods()].join(', ')}`);
  }
  return name;
}

function describeOptions(options: Record<string, unknown>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`)
    .join(',');
}

function componentLabel(c: MethodComponent): string {
  const options = describeOptions(c.options);
  return options ? `${c.method} ${options}` : c.method;
}

/** Expands one `{ method: grid }` mapping into components, one per option combination. */
function expandComponent(raw: unknown, where: string): MethodComponent[] {
  if (typeof raw === 'string') return [{ method: checkMethodName(raw, where), options: {} }];
  if (isRecord(raw) && 'method' in raw) {
    const method = checkMethodName(raw.method, `${where}.method`);
    const options = raw.options ?? {};
    if (!isRecord(options)) throw new BenchSpecError(`${where}.options: expected a mapping of option to value(s), got ${describeValue(options)}`);
    return optionCombinations(method, options, where).map((o) => ({ method, options: o }));
  }
  if (isRecord(raw) && Object.keys(raw).length === 1) {
    const [name, grid] = Object.entries(raw)[0]!;
    const method = checkMethodName(name, where);
    if (grid !== null && grid !== undefined && !isRecord(grid)) throw new BenchSpecError(`${where}.${name}: expected a mapping of option to value(s), got ${describeValue(grid)}`);
    return optionCombinations(method, (grid ?? {}) as Record<string, unknown>, `${where}.${name}`).map((o) => ({ method, options: o }));
  }
  throw new BenchSpecError(`${where}: expected a method name, { <method>: { option: value | [values] } } or { method, options }, got ${describeValue(raw)}`);
}

/**
 * Reads the spec's `methods` list into variants. Entries: `linear`; `bitfit`; `{ lora: { r: [4, 8] } }`
 * (one variant per value); `{ method: lora, options: {...}, name?, hyper? }`; or a composition
 * `{ name: noah-lite, compose: [{ lora: { r: 4 } }, { vpt: { tokens: [5, 10] } }], hyper? }` (one variant
 * per combination of its components' values). Methods must be registered (import their packages first).
 */
export function parseMethods(raw: unknown, hyper: HyperParameters): MethodVariant[] {
  if (!Array.isArray(raw)) throw new BenchSpecError(`spec.methods: expected a list of methods, got ${describeValue(raw)}`);
  const variants: MethodVariant[] = [];
  raw.forEach((entry, i) => {
    const where = `spec.methods[${i}]`;
    if (entry === LINEAR_PROBE) {
      variants.push({ label: LINEAR_PROBE, family: LINEAR_PROBE, components: [], hyper });
      return;
    }
    let ownHyper = hyper;
    let name: string | undefined;
    if (isRecord(entry) && ('compose' in entry || 'method' in entry)) {
      for (const key of Object.keys(entry)) if (!ENTRY_KEYS.includes(key)) throw new BenchSpecError(`${where}: unknown key "${key}"; allowed: ${ENTRY_KEYS.join(', ')}`);
      ownHyper = parseHyper(entry.hyper, `${where}.hyper`, hyper);
      if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name.trim() === '')) throw new BenchSpecError(`${where}.name: expected a non-empty string, got ${describeValue(entry.name)}`);
      name = entry.name as string | undefined;
    }
    let combos: MethodComponent[][];
    if (isRecord(entry) && 'compose' in entry) {
      if (!Array.isArray(entry.compose) || entry.compose.length < 2) throw new BenchSpecError(`${where}.compose: expected a list of at least two methods, got ${describeValue(entry.compose)}`);
      combos = [[]];
      entry.compose.forEach((part, j) => {
        const options = expandComponent(part, `${where}.compose[${j}]`);
        combos = combos.flatMap((c) => options.map((o) => [...c, o]));
      });
      for (const components of combos) {
        try {
          compose(...components.map((c) => configureOrThrow(c, where)));
        } catch (error) {
          throw new BenchSpecError(`${where}: ${(error as Error).message}`);
        }
      }
    } else {
      combos = expandComponent(entry, where).map((c) => [c]);
    }
    const family = name ?? combos[0]!.map((c) => c.method).join('+');
    for (const components of combos) {
      const detail = components.map(componentLabel).join(' + ');
      const label = name ? (combos.length > 1 ? `${name} (${detail})` : name) : detail;
      variants.push({ label, family, components, hyper: ownHyper });
    }
  });
  const seen = new Set<string>();
  for (const v of variants) {
    if (seen.has(v.label)) throw new BenchSpecError(`spec.methods: the variant "${v.label}" appears twice; give one a distinct name`);
    seen.add(v.label);
  }
  return variants;
}

/** The configured method (composition) of a variant, ready for `applyPeft`; `[]` for the linear probe. */
export function configureVariant(variant: MethodVariant): MethodInput | readonly never[] {
  const instances = variant.components.map((c) => configureOrThrow(c, variant.label));
  if (instances.length === 0) return [];
  return instances.length === 1 ? instances[0]! : compose(...instances);
}
