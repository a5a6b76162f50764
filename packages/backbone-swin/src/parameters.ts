import { init, type Initializer, type ParameterPlace, type ParameterRole } from '@vpeft/core';
import { stageDim, stageWindow, type SwinConfig } from './config';

/** One parameter a Swin Transformer creates: its timm name, shape, initialiser and role. */
export interface SwinParameterSpec {
  name: string;
  shape: number[];
  init: Initializer;
  role: ParameterRole;
  /** Its block (global index; none for the patch merging between stages) and stage. */
  place: ParameterPlace;
}

/**
 * The parameters of a Swin Transformer, in creation order (timm's initialisation: trunc-normal 0.02
 * for linear weights and relative position bias tables, zero biases, unit LayerNorms). Lets a count or
 * a checkpoint check be made without allocating the weights.
 */
export function swinParameterSpecs(config: SwinConfig): SwinParameterSpec[] {
  const specs: SwinParameterSpec[] = [];
  let place: ParameterPlace = {};
  const add = (name: string, shape: number[], initializer: Initializer, role: ParameterRole) => specs.push({ name, shape, init: initializer, role, place });
  const weight = init.truncatedNormal(0.02);
  const norm = (name: string, dim: number) => {
    add(`${name}.weight`, [dim], init.ones(), 'norm-weight');
    add(`${name}.bias`, [dim], init.zeros(), 'norm-bias');
  };
  const { patchSize: p, inChannels: c, embedDim } = config;
  add('patch_embed.proj.weight', [p * p * c, embedDim], init.kaimingUniform(Math.sqrt(5)), 'weight');
  add('patch_embed.proj.bias', [embedDim], init.zeros(), 'bias');
  norm('patch_embed.norm', embedDim);
  let global = 0;
  config.depths.forEach((depth, s) => {
    const d = stageDim(config, s);
    const hidden = d * config.mlpRatio;
    const w = stageWindow(config, s);
    place = { stage: s };
    if (s > 0) {
      norm(`layers.${s}.downsample.norm`, 2 * d);
      add(`layers.${s}.downsample.reduction.weight`, [2 * d, d], weight, 'weight');
    }
    for (let j = 0; j < depth; j++, global++) {
      const b = `layers.${s}.blocks.${j}`;
      place = { block: global, stage: s };
      norm(`${b}.norm1`, d);
      add(`${b}.attn.qkv.weight`, [d, 3 * d], weight, 'weight');
      if (config.qkvBias) add(`${b}.attn.qkv.bias`, [3 * d], init.zeros(), 'bias');
      add(`${b}.attn.relative_position_bias_table`, [(2 * w - 1) ** 2, config.numHeads[s]!], weight, 'embedding');
      add(`${b}.attn.proj.weight`, [d, d], weight, 'weight');
      add(`${b}.attn.proj.bias`, [d], init.zeros(), 'bias');
      norm(`${b}.norm2`, d);
      add(`${b}.mlp.fc1.weight`, [d, hidden], weight, 'weight');
      add(`${b}.mlp.fc1.bias`, [hidden], init.zeros(), 'bias');
      add(`${b}.mlp.fc2.weight`, [hidden, d], weight, 'weight');
      add(`${b}.mlp.fc2.bias`, [d], init.zeros(), 'bias');
    }
  });
  place = {};
  norm('norm', stageDim(config, config.depths.length - 1));
  return specs;
}
