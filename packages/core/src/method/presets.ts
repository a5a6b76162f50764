import { VpeftError } from '../errors/errors';
import type { ComposedMethod } from './method';

/**
 * A named composition of methods with its own options (e.g. NOAH: VPT-deep + LoRA + Adapter with
 * per-block dims). A preset builds ordinary method instances, so a model made from it saves and loads
 * as those methods (the preset's package is not needed to load the adapter).
 */
export interface PresetDefinition<Options extends object = object> {
  readonly kind: 'preset';
  readonly name: string;
  readonly description: string;
  /** npm package that provides the preset (for "install X" messages). */
  readonly packageName?: string;
  /** Every option with its default; the CLI types `name:key=value` by these. */
  readonly defaults: Options;
  /** The composed methods for these options (missing ones take the defaults); throws OptionError on bad ones. */
  build(options?: Partial<Options>): ComposedMethod;
}

/** Defines a preset: `definePreset({ name, description, defaults, build })`. */
export function definePreset<Options extends object>(spec: Omit<PresetDefinition<Options>, 'kind' | 'build'> & { build(options: Options): ComposedMethod }): PresetDefinition<Options> {
  if (!/^[a-z][a-z0-9_-]*$/.test(spec.name)) throw new VpeftError(`preset name ${JSON.stringify(spec.name)} must be lowercase letters, digits, "-" or "_", starting with a letter`);
  return Object.freeze({ ...spec, kind: 'preset' as const, build: (options: Partial<Options> = {}) => spec.build({ ...spec.defaults, ...options }) });
}

// On globalThis so that two installed copies of @vpeft/core share one registry, like the method registry.
const KEY = Symbol.for('@vpeft/core/preset-registry');
type Registry = Map<string, PresetDefinition<object>>;
const globalScope = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (globalScope[KEY] ??= new Map());

/** Registers a preset by name; the same definition twice (or the same package loaded twice) is a no-op. */
export function registerPreset(preset: PresetDefinition<object>): void {
  const existing = registry.get(preset.name);
  if (existing && existing !== preset && existing.packageName !== preset.packageName) {
    throw new VpeftError(`preset "${preset.name}" is already registered${existing.packageName ? ` from ${existing.packageName}` : ''}; unregister it first`);
  }
  if (!existing) registry.set(preset.name, preset);
}

/** Removes a preset from the registry. */
export function unregisterPreset(name: string): boolean {
  return registry.delete(name);
}

/** True when a preset of that name is registered. */
export function hasPreset(name: string): boolean {
  return registry.has(name);
}

/** The registered preset, or throws listing the registered ones. */
export function getPreset(name: string): PresetDefinition<object> {
  const preset = registry.get(name);
  if (!preset) throw new VpeftError(`unknown preset "${name}"; registered presets: ${listPresets().join(', ') || '(none)'}`);
  return preset;
}

/** Names of registered presets, sorted. */
export function listPresets(): string[] {
  return [...registry.keys()].sort();
}
