import type { BackboneConfig } from '../backbone/backbone';
import { OptionError } from '../errors/errors';

/** A Vision Transformer's shape, in timm's terms. */
export interface ViTConfig extends BackboneConfig {
  readonly arch: 'vit';
  readonly name: string;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly inChannels: number;
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpDim: number;
  readonly qkvBias: boolean;
  readonly layerNormEps: number;
  /** Stochastic depth rate of the last block (linearly increasing from 0), training only. */
  readonly dropPathRate: number;
}

function vit(name: string, imageSize: number, patchSize: number, embedDim: number, depth: number, numHeads: number): ViTConfig {
  return {
    arch: 'vit',
    name,
    imageSize,
    patchSize,
    inChannels: 3,
    embedDim,
    depth,
    numHeads,
    mlpDim: embedDim * 4,
    qkvBias: true,
    layerNormEps: 1e-6,
    dropPathRate: 0,
  };
}

/** Standard configs (timm names) and small ones for tests. */
export const vitConfigs = {
  vit_tiny_patch16_224: vit('vit_tiny_patch16_224', 224, 16, 192, 12, 3),
  vit_small_patch16_224: vit('vit_small_patch16_224', 224, 16, 384, 12, 6),
  vit_base_patch16_224: vit('vit_base_patch16_224', 224, 16, 768, 12, 12),
  vit_large_patch16_224: vit('vit_large_patch16_224', 224, 16, 1024, 24, 16),
  /** 2 blocks, width 32, 32x32 input: for unit tests on any backend. */
  vit_test_patch8_32: vit('vit_test_patch8_32', 32, 8, 32, 2, 4),
} as const satisfies Record<string, ViTConfig>;

/** A name of {@link vitConfigs}. */
export type ViTConfigName = keyof typeof vitConfigs;

/** A config by name, or a full config with overrides; validated. */
export function resolveViTConfig(config: ViTConfigName | (Partial<ViTConfig> & { base?: ViTConfigName })): ViTConfig {
  let resolved: ViTConfig;
  if (typeof config === 'string') {
    const found = (vitConfigs as Record<string, ViTConfig>)[config];
    if (!found) throw new OptionError('config', config, `one of ${Object.keys(vitConfigs).join(', ')} or a ViTConfig object`, 'vit');
    resolved = found;
  } else {
    const { base, ...overrides } = config;
    const start = base ? resolveViTConfig(base) : undefined;
    const merged = { ...(start ?? {}), ...overrides, arch: 'vit' } as Partial<ViTConfig>;
    if (!start && overrides.embedDim && merged.mlpDim === undefined) (merged as { mlpDim: number }).mlpDim = overrides.embedDim * 4;
    resolved = {
      qkvBias: true,
      layerNormEps: 1e-6,
      dropPathRate: 0,
      inChannels: 3,
      name: 'vit_custom',
      ...merged,
    } as ViTConfig;
  }
  validateViTConfig(resolved);
  return resolved;
}

function validateViTConfig(c: ViTConfig): void {
  const positive = ['imageSize', 'patchSize', 'inChannels', 'embedDim', 'depth', 'numHeads', 'mlpDim'] as const;
  for (const key of positive) {
    const value = c[key];
    if (!Number.isInteger(value) || value <= 0) throw new OptionError(key, value, 'a positive integer', 'vit');
  }
  if (c.imageSize % c.patchSize !== 0) {
    throw new OptionError('imageSize', c.imageSize, `a multiple of patchSize (${c.patchSize})`, 'vit');
  }
  if (c.embedDim % c.numHeads !== 0) {
    throw new OptionError('numHeads', c.numHeads, `a divisor of embedDim (${c.embedDim})`, 'vit');
  }
  if (!(c.dropPathRate >= 0 && c.dropPathRate < 1)) throw new OptionError('dropPathRate', c.dropPathRate, 'a number in [0, 1)', 'vit');
  if (!(c.layerNormEps > 0)) throw new OptionError('layerNormEps', c.layerNormEps, 'a positive number', 'vit');
}
