import { VpeftError } from '../errors/errors';
import { readSafetensorsMetadata } from '../io/safetensors';
import type { Backbone } from './backbone';

/**
 * Loads `.safetensors` checkpoints of one backbone family (`arch`, as in a backbone config and in the
 * checkpoint's `vpeft.config` metadata), so a checkpoint path can stand where a backbone name does.
 */
export interface BackboneCheckpointLoader {
  /** The family, e.g. `vit`, `swin`. */
  readonly arch: string;
  readonly packageName?: string;
  /** Loads `path`; `config` names a config of the family when the file carries none. */
  load(path: string, options: { config?: string }): Promise<Backbone>;
}

const KEY = Symbol.for('@vpeft/core/backbone-checkpoint-loaders');
const scope = globalThis as unknown as Record<symbol, Map<string, BackboneCheckpointLoader> | undefined>;
const loaders: Map<string, BackboneCheckpointLoader> = (scope[KEY] ??= new Map());

/** Registers the checkpoint loader of a family (the same family from the same package again is a no-op). */
export function registerBackboneCheckpointLoader(loader: BackboneCheckpointLoader): void {
  const existing = loaders.get(loader.arch);
  if (existing && existing !== loader && existing.packageName !== loader.packageName) {
    throw new VpeftError(`a checkpoint loader for arch "${loader.arch}" is already registered${existing.packageName ? ` by ${existing.packageName}` : ''}`);
  }
  if (!existing) loaders.set(loader.arch, loader);
}

/**
 * Loads a backbone checkpoint by its family: the `arch` of the file's `vpeft.config` metadata, or
 * `vit` (timm's layout) when the file has none.
 */
export async function loadBackboneCheckpoint(path: string, options: { config?: string } = {}): Promise<Backbone> {
  let arch = 'vit';
  if (!options.config) {
    const meta = (await readSafetensorsMetadata(path))?.['vpeft.config'];
    try {
      arch = (meta ? (JSON.parse(meta) as { arch?: string }).arch : undefined) ?? 'vit';
    } catch {
      // unparseable config metadata: the family's loader reports it with the file named
    }
  }
  const loader = loaders.get(arch);
  if (!loader) throw new VpeftError(`${path}: a "${arch}" checkpoint, but no loader for that arch is registered (registered: ${[...loaders.keys()].join(', ') || 'none'}); install and import its backbone package`);
  return loader.load(path, options);
}
