import { OptionError } from '@vpeft/core';

/** How LoRA's down projection `A` is initialised; the up projection `B` always starts at zero. */
export type LoraInit = 'kaiming-uniform' | 'trunc-normal';

/** The LoRA initialisations, for messages and the CLI. */
export const LORA_INITS: readonly LoraInit[] = ['kaiming-uniform', 'trunc-normal'];

/** Options of the `lora` method. */
export interface LoraOptions {
  /** Rank of the update `B·A`: a positive integer. */
  r: number;
  /** The update is scaled by `alpha / r`; `alpha: r` gives the unscaled update of the benchmark. */
  alpha: number;
  /** Dropout rate on the LoRA path's input (training only), in [0, 1). */
  dropout: number;
  /** Globs over linear and conv site names (`blocks.*.mlp.fc{1,2}`) or role selectors (`@attention.qkv`, `@conv.pointwise:last-stage`). */
  targets: string[];
  /**
   * For sites with fused outputs (`SiteInfo.slices`, e.g. the ViT's qkv): the output slices to adapt,
   * each with its own `A`/`B` (`['q', 'v']`, as the benchmark), or `'all'` (or `['all']`) for one
   * update of the whole matrix (as NOAH and Hugging Face PEFT). Sites without slices are adapted whole.
   */
  slices: string[] | 'all';
  /**
   * `A`'s initialisation: `'kaiming-uniform'` (a = √5, as microsoft/LoRA and PEFT) or
   * `'trunc-normal'` (std 0.02, the benchmark's variant). `B` is zero either way, so the output is
   * unchanged at step 0.
   */
  init: LoraInit;
  /**
   * DoRA (Liu et al., 2024; Hugging Face PEFT's `use_dora`): decompose the adapted weight into a
   * trainable magnitude per output channel and the direction `W + scale·BA`, normalised per output
   * channel: `W' = m ⊙ (W + scale·BA) / ‖W + scale·BA‖`. `m` starts at the base weight's norms, so
   * the output is still unchanged at step 0. Per fused-qkv slice, each slice is decomposed on its own.
   */
  dora: boolean;
  /** Rank-stabilised LoRA (Hugging Face PEFT's `use_rslora`): scale by `alpha / √r` instead of `alpha / r`. */
  rslora: boolean;
}

/**
 * Defaults: rank 8, unscaled (alpha = r), no dropout, plain LoRA, on sites chosen by role: on a
 * transformer the q and v slices of every block's fused qkv (`@attention.qkv`, as the LoRA paper and the
 * benchmark); on a CNN the 1x1 (pointwise) convs of the last stage (`@conv.pointwise:last-stage`), the
 * layers that hold most of a MobileNet's or ResNet's late capacity.
 */
export const LORA_DEFAULTS: LoraOptions = {
  r: 8,
  alpha: 8,
  dropout: 0,
  targets: ['@attention.qkv', '@conv.pointwise:last-stage'],
  slices: ['q', 'v'],
  init: 'kaiming-uniform',
  dora: false,
  rslora: false,
};

/** The factor LoRA's update is scaled by: `alpha / r`, or `alpha / √r` with `rslora`. */
export function loraScale(options: Pick<LoraOptions, 'r' | 'alpha' | 'rslora'>): number {
  return options.rslora ? options.alpha / Math.sqrt(options.r) : options.alpha / options.r;
}

/** `'all'` or `['all']`: adapt the whole matrix of a fused site. */
export function adaptsWholeMatrix(slices: LoraOptions['slices']): boolean {
  return slices === 'all' || (Array.isArray(slices) && slices.length === 1 && slices[0] === 'all');
}

/** Throws an {@link OptionError} naming the option, the value given and what is allowed. */
export function validateLoraOptions(options: LoraOptions): void {
  const { r, alpha, dropout, targets, slices, init, dora, rslora } = options;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw new OptionError('r', r, 'a positive integer rank', 'lora');
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) {
    throw new OptionError('alpha', alpha, 'a positive number (the update is scaled by alpha / r)', 'lora');
  }
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new OptionError('dropout', dropout, 'a rate in [0, 1)', 'lora');
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string' || t === '')) {
    throw new OptionError('targets', targets, 'a non-empty array of site-name globs, e.g. ["blocks.*.attn.qkv"]', 'lora');
  }
  if (!adaptsWholeMatrix(slices)) {
    const valid =
      Array.isArray(slices) &&
      slices.length > 0 &&
      slices.every((s) => typeof s === 'string' && s !== '' && s !== 'all') &&
      new Set(slices).size === slices.length;
    if (!valid) throw new OptionError('slices', slices, '"all" or a non-empty list of distinct slice names, e.g. ["q", "v"]', 'lora');
  }
  if (typeof dora !== 'boolean') throw new OptionError('dora', dora, 'true or false', 'lora');
  if (typeof rslora !== 'boolean') throw new OptionError('rslora', rslora, 'true or false', 'lora');
  if (!LORA_INITS.includes(init)) throw new OptionError('init', init, `one of ${LORA_INITS.map((i) => `"${i}"`).join(', ')}`, 'lora');
}
