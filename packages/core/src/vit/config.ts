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
  /** The MLP's activation: exact GELU (timm, Google, DINOv2) or QuickGELU `x·σ(1.702x)` (OpenAI CLIP). */
  readonly activation: 'gelu' | 'quick-gelu';
  /** A LayerNorm on the embedded tokens before the first block (`norm_pre`; CLIP's `ln_pre`). */
  readonly preNorm: boolean;
  /** Whether the patch projection has a bias (CLIP's has none). */
  readonly patchBias: boolean;
  /**
   * Layer scale (CaiT, DINOv2): each branch's output is multiplied per channel by a learned
   * `blocks.i.ls{1,2}.gamma`, initialised to this value; 0 for none.
   */
  readonly layerScale: number;
  /** Register tokens (`reg_token`, DINOv2 with registers) after the CLS token; they get no position embedding. */
  readonly registerTokens: number;
  /**
   * timm's `no_embed_class`: `pos_embed` covers the patches only (`[1, N, D]`) and the CLS (and register)
   * tokens are concatenated after it is added — as timm's DINOv2-with-registers models.
   */
  readonly noEmbedClass: boolean;
}

/** The defaults of the optional {@link ViTConfig} fields (timm's plain ViT). */
export const VIT_DEFAULTS = {
  qkvBias: true,
  layerNormEps: 1e-6,
  dropPathRate: 0,
  inChannels: 3,
  activation: 'gelu',
  preNorm: false,
  patchBias: true,
  layerScale: 0,
  registerTokens: 0,
  noEmbedClass: false,
} as const satisfies Partial<ViTConfig>;

function vit(name: string, imageSize: number, patchSize: number, embedDim: number, depth: number, numHeads: number): ViTConfig {
  return { ...VIT_DEFAULTS, arch: 'vit', name, imageSize, patchSize, embedDim, depth, numHeads, mlpDim: embedDim * 4 };
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
    resolved = { ...VIT_DEFAULTS, name: 'vit_custom', ...merged } as ViTConfig;
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
  if (c.activation !== 'gelu' && c.activation !== 'quick-gelu') throw new OptionError('activation', c.activation, '"gelu" or "quick-gelu"', 'vit');
  if (!(c.layerScale >= 0 && Number.isFinite(c.layerScale))) throw new OptionError('layerScale', c.layerScale, 'a number >= 0 (0: no layer scale)', 'vit');
  if (!Number.isInteger(c.registerTokens) || c.registerTokens < 0) throw new OptionError('registerTokens', c.registerTokens, 'an integer >= 0', 'vit');
}
