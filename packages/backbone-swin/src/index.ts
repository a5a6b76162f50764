/**
 * @vpeft/backbone-swin — the Swin Transformer (v1) as a vpeft backbone: timm names, window attention
 * with relative position bias, shifted windows with the attention mask, patch merging, 4 stages;
 * sites for every method (linear qkv/proj/fc1/fc2 per block, norms, branches, per-block token sequences
 * for VPT); timm checkpoint loading.
 */
export { Swin, createSwin, type CreateSwinOptions } from './swin';
export { swinConfigs, resolveSwinConfig, stageDim, stageResolution, stageWindow, type SwinConfig, type SwinConfigName } from './config';
export { loadSwin, assignSwinWeights, exportSwinWeights, type LoadSwinOptions } from './timm-weights';
export { buildSwinSites } from './sites';
export { swinParameterSpecs, type SwinParameterSpec } from './parameters';
export { partitionWindows, mergeWindows, roll2d, relativePositionIndex, shiftedWindowMask } from './windows';
export { swinBackbones } from './register';
