/**
 * @vpeft/core for browsers (the `browser` export condition): everything core offers, with no `node:`
 * module in its graph. Paths need a file store (see `setFileSystem`); in a browser, adapters travel as
 * in-memory files (`adapterToFiles`, `peftModelFromFiles`, `adapterFilesFromBlobs`) and backbones as
 * bytes (`loadViT({ weights: bytes })`). `initBackend()` picks webgpu > webgl > wasm > cpu among the
 * backends the page imported.
 */
export * from './errors/errors';
export {
  initBackend,
  currentBackend,
  describeBackend,
  registerBackendProvider,
  getBackendProvider,
  type BackendChoice,
  type BackendInfo,
  type BackendProvider,
  type PreparedBackend,
  type InitBackendOptions,
} from './backend/backend';
export { setBackendEnvironment, backendEnvironment, BROWSER_BACKEND_ENVIRONMENT, type BackendEnvironment } from './backend/backend-environment';
export { globToRegExp, matchesAny } from './params/glob';
export { ParameterStore, sizeOf, type Parameter, type ParameterPlace, type ParameterRole, type ParameterOwner, type OwnerCount } from './params/parameter';
export { init, initialize, fanIn, fanOut, type Initializer } from './init/initializers';
export { mulberry32, hashSeed } from './init/random';
export * from './sites/site';
export { matchSites, summarizeSiteNames, isRoleSelector } from './sites/match-sites';
export { insertTokens, replaceTokens } from './sites/token-sequence';
export { TapRecorder } from './sites/tap-recorder';
export type { Backbone, BackboneConfig, BackboneForwardOptions, InputNormalization } from './backbone/backbone';
export { isFrozenOutput, inputBatchSize, sliceInput, inputTensors, type FrozenOutput, type FrozenPartInfo, type NoFrozenPart, type BackboneInput } from './backbone/frozen-output';
export {
  defineBackbone,
  registerBackbone,
  unregisterBackbone,
  hasBackbone,
  getBackbone,
  listBackbones,
  loadBackbone,
  UnknownBackboneError,
  type BackboneDefinition,
  type LoadBackboneOptions,
} from './backbone/registry';
export { frozenUnits, frozenPrefixLength, blockSteps, type ForwardUnit } from './backbone/frozen-prefix';
export { registerBackboneCheckpointLoader, loadBackboneCheckpoint, type BackboneCheckpointLoader } from './backbone/checkpoints';
export * from './method/method';
export { defineMethod } from './method/define-method';
export { registerMethod, unregisterMethod, getMethod, hasMethod, listMethods } from './method/registry';
export { compose, flattenMethods } from './method/compose';
export { definePreset, registerPreset, unregisterPreset, hasPreset, getPreset, listPresets, type PresetDefinition } from './method/presets';
export { applyPeft, type ApplyPeftOptions } from './model/apply-peft';
export { PeftModel, type MergeReport, type PredictOptions, type PeftModelParts } from './model/peft-model';
export { SiteChains, type AttachedModule } from './model/site-chain';
export { summarize, formatSummary, type ModelSummary, type SummaryRow } from './model/summary';
export { loadPeftModel } from './model/load-peft-model';
export { registerAdapterFormat, unregisterAdapterFormat, getAdapterFormat, listAdapterFormats, VPEFT_ADAPTER_FORMAT, type AdapterFormat } from './model/adapter-format';
export { vpeftAdapterFormat } from './model/vpeft-format';
export { readAdapterConfig } from './model/adapter-io';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  checkBackboneMatches,
  adapterModelConfig,
  parseAdapterConfig,
  type AdapterConfig,
  type AdapterModelConfig,
} from './model/adapter-config';
export {
  adapterToFiles,
  loadAdapterBytes,
  assignTrainableTensors,
  loadAdapterFromFiles,
  peftModelFromFiles,
  adapterFilesFromBlobs,
  type AdapterFiles,
  type AdapterSources,
  type NamedBlob,
} from './model/adapter-bytes';
export { applyAdapterConfig } from './model/apply-adapter-config';
export { gelu, quickGelu } from './ops/gelu';
export { FUSED_KERNELS } from './ops/fused-kernels';
export { layerNorm } from './ops/layer-norm';
export { linear } from './ops/linear';
export { dropout, dropPath } from './ops/regularization';
export { withoutGradient } from './ops/without-gradient';
export { detach } from './ops/detach';
export { mergeHeads, multiHeadAttention, splitHeads, splitQkv } from './ops/attention';
export { qkvAttention } from './ops/qkv-attention';
export { ViT, createViT, positionPrefix, LINEAR_ROLES, type CreateViTOptions } from './vit/vit';
export { vitConfigs, resolveViTConfig, VIT_DEFAULTS, type ViTConfig, type ViTConfigName } from './vit/config';
export { loadViT, assignTimmWeights, exportTimmWeights, isHeadKey, type LoadViTOptions, type TimmWeights, type TensorData } from './vit/timm-weights';
export { vitBackbones } from './vit/register';
export { bicubicMatrix, resampleGrid, resamplePositionEmbedding } from './vit/resample';
export { setFileSystem, fileSystem, type FileSystem } from './io/file-system';
export { sha256Hex } from './io/sha256';
export * from './io/safetensors';
export { decodeFloat16, decodeBFloat16 } from './io/half';
