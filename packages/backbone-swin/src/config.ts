import { OptionError, type BackboneConfig } from '@vpeft/core';

/** A Swin Transformer's shape, in timm's terms (`SwinTransformer` v1). */
export interface SwinConfig extends BackboneConfig {
  readonly arch: 'swin';
  readonly name: string;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly inChannels: number;
  /** Width of stage 0; each later stage doubles it (patch merging). */
  readonly embedDim: number;
  /** Blocks per stage. */
  readonly depths: readonly number[];
  /** Attention heads per stage. */
  readonly numHeads: readonly number[];
  readonly windowSize: number;
  readonly mlpRatio: number;
  readonly qkvBias: boolean;
  readonly layerNormEps: number;
  /** Stochastic depth rate of the last block (linearly increasing from 0 over all blocks), training only. */
  readonly dropPathRate: number;
}

function swin(name: string, imageSize: number, patchSize: number, windowSize: number, embedDim: number, depths: number[], numHeads: number[]): SwinConfig {
  return { arch: 'swin', name, imageSize, patchSize, inChannels: 3, embedDim, depths, numHeads, windowSize, mlpRatio: 4, qkvBias: true, layerNormEps: 1e-5, dropPathRate: 0 };
}

/** Standard configs (timm names) and a small one for tests. */
export const swinConfigs = {
  swin_tiny_patch4_window7_224: swin('swin_tiny_patch4_window7_224', 224, 4, 7, 96, [2, 2, 6, 2], [3, 6, 12, 24]),
  swin_small_patch4_window7_224: swin('swin_small_patch4_window7_224', 224, 4, 7, 96, [2, 2, 18, 2], [3, 6, 12, 24]),
  swin_base_patch4_window7_224: swin('swin_base_patch4_window7_224', 224, 4, 7, 128, [2, 2, 18, 2], [4, 8, 16, 32]),
  /** 4 stages (2, 2, 2, 1 blocks), width 8, window 2, 32x32 input (a 16x16 patch grid): for unit tests. */
  swin_test_patch2_window2_32: swin('swin_test_patch2_window2_32', 32, 2, 2, 8, [2, 2, 2, 1], [1, 2, 4, 8]),
} as const satisfies Record<string, SwinConfig>;

/** A name of {@link swinConfigs}. */
export type SwinConfigName = keyof typeof swinConfigs;

/** A config by name, or a full config with overrides (`{ base: 'swin_tiny_patch4_window7_224', depths: [...] }`); validated. */
export function resolveSwinConfig(config: SwinConfigName | (Partial<SwinConfig> & { base?: SwinConfigName })): SwinConfig {
  let resolved: SwinConfig;
  if (typeof config === 'string') {
    const found = (swinConfigs as Record<string, SwinConfig>)[config];
    if (!found) throw new OptionError('config', config, `one of ${Object.keys(swinConfigs).join(', ')} or a SwinConfig object`, 'swin');
    resolved = found;
  } else {
    const { base, ...overrides } = config;
    const start = base ? resolveSwinConfig(base) : undefined;
    resolved = { inChannels: 3, mlpRatio: 4, qkvBias: true, layerNormEps: 1e-5, dropPathRate: 0, name: 'swin_custom', ...(start ?? {}), ...overrides, arch: 'swin' } as SwinConfig;
  }
  validateSwinConfig(resolved);
  return resolved;
}

/** The width of stage `s`. */
export function stageDim(c: SwinConfig, s: number): number {
  return c.embedDim * 2 ** s;
}

/** The token grid side of stage `s` (the patch grid halved per merge). */
export function stageResolution(c: SwinConfig, s: number): number {
  return c.imageSize / c.patchSize / 2 ** s;
}

/** The window side at stage `s`: the configured one, or the whole grid when it is smaller (timm). */
export function stageWindow(c: SwinConfig, s: number): number {
  return Math.min(c.windowSize, stageResolution(c, s));
}

function validateSwinConfig(c: SwinConfig): void {
  for (const key of ['imageSize', 'patchSize', 'inChannels', 'embedDim', 'windowSize'] as const) {
    const value = c[key];
    if (!Number.isInteger(value) || value <= 0) throw new OptionError(key, value, 'a positive integer', 'swin');
  }
  const stages = c.depths.length;
  if (stages === 0 || !c.depths.every((d) => Number.isInteger(d) && d > 0)) throw new OptionError('depths', c.depths, 'a non-empty list of positive block counts per stage', 'swin');
  if (c.numHeads.length !== stages) throw new OptionError('numHeads', c.numHeads, `one head count per stage (${stages})`, 'swin');
  const grid = c.imageSize / c.patchSize;
  if (!Number.isInteger(grid) || grid % 2 ** (stages - 1) !== 0) {
    throw new OptionError('imageSize', c.imageSize, `a multiple of patchSize · 2^${stages - 1} (${c.patchSize * 2 ** (stages - 1)}), so every stage's grid is whole`, 'swin');
  }
  for (let s = 0; s < stages; s++) {
    const heads = c.numHeads[s]!;
    if (!Number.isInteger(heads) || heads <= 0 || stageDim(c, s) % heads !== 0) throw new OptionError('numHeads', c.numHeads, `per stage a divisor of its width (stage ${s}: ${stageDim(c, s)})`, 'swin');
    if (stageResolution(c, s) % stageWindow(c, s) !== 0) {
      throw new OptionError('windowSize', c.windowSize, `a divisor of every stage's grid (stage ${s} is ${stageResolution(c, s)}x${stageResolution(c, s)})`, 'swin');
    }
  }
  if (!(c.mlpRatio > 0) || !Number.isInteger(stageDim(c, 0) * c.mlpRatio)) throw new OptionError('mlpRatio', c.mlpRatio, 'a positive ratio giving whole MLP widths', 'swin');
  if (!(c.layerNormEps > 0)) throw new OptionError('layerNormEps', c.layerNormEps, 'a positive number', 'swin');
  if (!(c.dropPathRate >= 0 && c.dropPathRate < 1)) throw new OptionError('dropPathRate', c.dropPathRate, 'a number in [0, 1)', 'swin');
}
