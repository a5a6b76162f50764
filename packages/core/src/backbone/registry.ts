import { VpeftError } from '../errors/errors';
import type { Backbone } from './backbone';

/** Options a backbone loader receives (from `loadBackbone`, the CLI's `--backbone` / `--weights`). */
export interface LoadBackboneOptions {
  /** A weights file for backbones that take one (e.g. a timm `.safetensors` checkpoint for a ViT config). */
  readonly weights?: string;
  /**
   * Only shapes and parameter counts will be read (`vpeft inspect`): a loader may skip expensive
   * initialisation (e.g. fill random-weight configs with zeros).
   */
  readonly shapesOnly?: boolean;
  /** Seed of a random initialisation. */
  readonly seed?: number;
}

/**
 * A backbone by name: what `vpeft --backbone <name>` and {@link loadBackbone} make. Packages that
 * provide backbones (core's ViT configs, `@vpeft/pretrained`, `@vpeft/backbone-layers`,
 * `@vpeft/backbone-swin`, third-party plugins) register theirs on import.
 */
export interface BackboneDefinition {
  /** Unique name, e.g. `vit_base_patch16_224`, `mobilenet_v2`. */
  readonly name: string;
  /** One line for listings (`vpeft --help`). */
  readonly description: string;
  /** The npm package that provides it, for messages. */
  readonly packageName?: string;
  /** True when `load()` without `weights` returns trained weights (else a random initialisation). */
  readonly pretrained?: boolean;
  /** True when the loader reads `options.weights` (a checkpoint); others refuse a weights file. */
  readonly acceptsWeights?: boolean;
  /** Builds the backbone; the caller owns it (and disposes it). */
  load(options: LoadBackboneOptions): Backbone | Promise<Backbone>;
}

/** A backbone name that is not registered; lists the registered ones. */
export class UnknownBackboneError extends VpeftError {
  override name = 'UnknownBackboneError';
  constructor(readonly backbone: string, readonly known: readonly string[]) {
    super(`unknown backbone "${backbone}"; known: ${known.length ? known.join(', ') : '(none registered)'}`);
  }
}

// Kept on globalThis so that two installed copies of @vpeft/core share one registry (as tfjs does).
const KEY = Symbol.for('@vpeft/core/backbone-registry');
const scope = globalThis as unknown as Record<symbol, Map<string, BackboneDefinition> | undefined>;
const registry: Map<string, BackboneDefinition> = (scope[KEY] ??= new Map());

/** Checks a backbone definition and returns it (frozen); register it with {@link registerBackbone}. */
export function defineBackbone(definition: BackboneDefinition): BackboneDefinition {
  if (!/^[A-Za-z0-9][\w.-]*$/.test(definition.name ?? '')) {
    throw new VpeftError(`defineBackbone: name ${JSON.stringify(definition.name)} must be letters, digits, "_", "-" or "." (e.g. "mobilenet_v2")`);
  }
  if (typeof definition.load !== 'function') throw new VpeftError(`defineBackbone "${definition.name}": load(options) must be a function`);
  if (!definition.description) throw new VpeftError(`defineBackbone "${definition.name}": a one-line description is required`);
  return Object.freeze({ ...definition });
}

/**
 * Registers a backbone by name. The same definition (or one of that name from the same package, e.g.
 * its ESM and CJS builds) again is a no-op; another definition under a taken name throws.
 */
export function registerBackbone(definition: BackboneDefinition): void {
  const existing = registry.get(definition.name);
  if (existing && existing !== definition) {
    if (existing.packageName === definition.packageName) return;
    throw new VpeftError(`backbone "${definition.name}" is already registered${existing.packageName ? ` by ${existing.packageName}` : ''}; unregister it first`);
  }
  registry.set(definition.name, definition);
}

/** Removes a backbone from the registry. */
export function unregisterBackbone(name: string): boolean {
  return registry.delete(name);
}

/** True when a backbone of that name is registered. */
export function hasBackbone(name: string): boolean {
  return registry.has(name);
}

/** The registered backbone, or throws {@link UnknownBackboneError} listing the registered names. */
export function getBackbone(name: string): BackboneDefinition {
  const definition = registry.get(name);
  if (!definition) throw new UnknownBackboneError(name, listBackbones().map((b) => b.name));
  return definition;
}

/** The registered backbones, in registration order. */
export function listBackbones(): BackboneDefinition[] {
  return [...registry.values()];
}

/** Loads a registered backbone by name; a weights file for a backbone that takes none is refused. */
export async function loadBackbone(name: string, options: LoadBackboneOptions = {}): Promise<Backbone> {
  const definition = getBackbone(name);
  if (options.weights !== undefined && !definition.acceptsWeights) {
    throw new VpeftError(`backbone "${name}" takes no weights file (got ${options.weights}); it ${definition.pretrained ? 'ships its own weights' : 'is built from its config'}`);
  }
  return definition.load(options);
}
