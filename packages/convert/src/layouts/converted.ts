import { OptionError, resolveViTConfig, vitConfigs, type TensorData, type ViTConfig } from '@vpeft/core';

/** A checkpoint mapped to vpeft's one internal layout: timm names, PyTorch layouts, and its ViT config. */
export interface ConvertedCheckpoint {
  config: ViTConfig;
  /** timm names (`blocks.0.attn.qkv.weight`...), PyTorch layouts (linear `[out, in]`, conv OIHW); `head.*` when the source had a classifier. */
  tensors: Map<string, TensorData>;
  /** What was dropped or assumed, one line each (printed by `vpeft convert`). */
  notes: string[];
}

/** Options every layout reader takes. */
export interface ReaderOptions {
  /** Attention heads, when the checkpoint cannot tell (DINOv2, CLIP; default width / 64). */
  numHeads?: number;
  /** Config name to record; default: the matching timm name, else one made from the shapes. */
  name?: string;
}

/** The shape-derived fields of a ViT config. */
export type ViTShape = Pick<ViTConfig, 'imageSize' | 'patchSize' | 'embedDim' | 'depth' | 'numHeads' | 'mlpDim'> & Partial<ViTConfig>;

/** A validated config for the shapes read from a checkpoint, named after the matching timm config when there is one. */
export function configFromShapes(shape: ViTShape, name: string | undefined, layout: string): ViTConfig {
  const known = Object.values(vitConfigs).find(
    (c) => c.embedDim === shape.embedDim && c.depth === shape.depth && c.patchSize === shape.patchSize && c.imageSize === shape.imageSize && c.numHeads === shape.numHeads,
  );
  const derived = known?.name ?? `vit_${layout}_d${shape.embedDim}_depth${shape.depth}_patch${shape.patchSize}_${shape.imageSize}`;
  return resolveViTConfig({ ...shape, name: name ?? derived });
}

/** The number of heads: given, or the usual head width of 64. */
export function headsFor(embedDim: number, given: number | undefined, layout: string): number {
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 1 || embedDim % given !== 0) throw new OptionError('numHeads', given, `a divisor of the width ${embedDim}`, layout);
    return given;
  }
  if (embedDim % 64 !== 0) throw new OptionError('numHeads', given, `a head count (the ${layout} checkpoint does not record it and its width ${embedDim} is not a multiple of 64)`, layout);
  return embedDim / 64;
}

/** The side of a square grid of `n` positions, or undefined. */
export function squareSide(n: number): number | undefined {
  const g = Math.round(Math.sqrt(n));
  return g * g === n ? g : undefined;
}
