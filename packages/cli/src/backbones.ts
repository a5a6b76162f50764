import { existsSync } from 'node:fs';
import { getBackbone, hasBackbone, listBackbones, loadBackbone, loadBackboneCheckpoint, UnknownBackboneError, type Backbone } from '@vpeft/core';
import { UsageError } from './errors';

/**
 * The backbones the CLI knows by name — every backbone in core's registry (registered by the
 * installed plugins; run after plugin discovery) — with a line each for `--help`.
 */
export function namedBackbones(): Record<string, string> {
  return Object.fromEntries(listBackbones().map((b) => [b.name, b.description]));
}

/** Options for {@link resolveBackbone}. */
export interface BackboneSpec {
  backbone: string;
  weights?: string;
  config?: string;
  /** Only shapes and counts matter (`vpeft inspect`): loaders may skip expensive initialisation. */
  shapesOnly?: boolean;
}

function unknown(name: string): UsageError {
  const known = new UnknownBackboneError(name, listBackbones().map((b) => b.name)).message;
  return new UsageError(`${known}, or a path to a .safetensors checkpoint`);
}

/**
 * Checks a backbone spec without loading anything (a registered name, files that exist); throws the
 * same {@link UsageError} that {@link resolveBackbone} would.
 */
export function checkBackbone(spec: BackboneSpec): void {
  const { backbone: name, weights } = spec;
  if (hasBackbone(name)) {
    if (weights && !getBackbone(name).acceptsWeights) throw new UsageError(`--weights ${weights}: backbone ${name} takes no weights file`);
    if (weights && !existsSync(weights)) throw new UsageError(`--weights ${weights}: no such file`);
    return;
  }
  if (name.endsWith('.safetensors')) {
    if (!existsSync(name)) throw new UsageError(`--backbone ${name}: no such file`);
    return;
  }
  throw unknown(name);
}

/**
 * Makes the backbone named on the command line: a registered backbone (with `--weights` for those
 * that take a checkpoint), or a path to a `.safetensors` checkpoint (loaded by its family's
 * registered checkpoint loader).
 */
export async function resolveBackbone(spec: BackboneSpec): Promise<{ backbone: Backbone; pretrained: boolean; description: string }> {
  checkBackbone(spec);
  const { backbone: name, weights } = spec;
  if (hasBackbone(name)) {
    const definition = getBackbone(name);
    const backbone = await loadBackbone(name, { weights, shapesOnly: spec.shapesOnly });
    if (weights) return { backbone, pretrained: true, description: `${name} from ${weights}` };
    return { backbone, pretrained: Boolean(definition.pretrained), description: definition.pretrained ? definition.description : `${name} (random weights)` };
  }
  return { backbone: await loadBackboneCheckpoint(name, { config: spec.config }), pretrained: true, description: name };
}
