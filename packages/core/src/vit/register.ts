import { defineBackbone, registerBackbone } from '../backbone/registry';
import { registerBackboneCheckpointLoader } from '../backbone/checkpoints';
import { vitConfigs, type ViTConfigName } from './config';
import { loadViT } from './timm-weights';
import { createViT } from './vit';

/**
 * Core's ViT configs as registered backbones: random weights (seed 0), or a timm `.safetensors`
 * checkpoint given as `weights`; and the `vit` checkpoint loader for checkpoint paths.
 */
export const vitBackbones = Object.keys(vitConfigs).map((name) =>
  defineBackbone({
    name,
    description: 'ViT config with random weights (pass --weights for a timm checkpoint)',
    packageName: '@vpeft/core',
    acceptsWeights: true,
    load: (options) =>
      options.weights
        ? loadViT({ config: name as ViTConfigName, weights: options.weights })
        : createViT(name as ViTConfigName, { seed: options.seed }),
  }),
);

for (const definition of vitBackbones) registerBackbone(definition);
registerBackboneCheckpointLoader({
  arch: 'vit',
  packageName: '@vpeft/core',
  load: (path, options) => loadViT({ config: options.config as ViTConfigName | undefined, weights: path }),
});
