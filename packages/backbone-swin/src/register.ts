import { defineBackbone, registerBackbone, registerBackboneCheckpointLoader } from '@vpeft/core';
import { swinConfigs, type SwinConfigName } from './config';
import { createSwin } from './swin';
import { loadSwin } from './timm-weights';

/**
 * The Swin configs as registered backbones (random weights, or a timm `.safetensors` checkpoint as
 * `weights`), and the `swin` checkpoint loader for checkpoint paths.
 */
export const swinBackbones = Object.keys(swinConfigs).map((name) =>
  defineBackbone({
    name,
    description: 'Swin Transformer config with random weights (pass --weights for a timm checkpoint)',
    packageName: '@vpeft/backbone-swin',
    acceptsWeights: true,
    load: (options) =>
      options.weights
        ? loadSwin({ config: name as SwinConfigName, weights: options.weights })
        : createSwin(name as SwinConfigName, { initialize: options.shapesOnly ? 'zeros' : 'random', seed: options.seed }),
  }),
);

for (const definition of swinBackbones) registerBackbone(definition);
registerBackboneCheckpointLoader({
  arch: 'swin',
  packageName: '@vpeft/backbone-swin',
  load: (path, options) => loadSwin({ config: options.config as SwinConfigName | undefined, weights: path }),
});
