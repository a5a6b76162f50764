import { OptionError } from '@vpeft/core';

/** Options of the example `ia3` method. */
export interface Ia3Options {
  /** Globs over linear site names. */
  targets: string[];
  /** On fused sites (qkv), which output slices to rescale; IA3 rescales keys and values. */
  slices: string[];
}

/** Defaults: keys and values of every block's qkv, and every MLP's hidden layer (fc1). */
export const IA3_DEFAULTS: Ia3Options = { targets: ['@attention.qkv', '@mlp.in'], slices: ['k', 'v'] };

/** Checks the options; errors name the option, the value and what is allowed. */
export function validateIa3Options(options: Ia3Options): void {
  if (!Array.isArray(options.targets) || options.targets.length === 0 || options.targets.some((t) => typeof t !== 'string')) {
    throw new OptionError('targets', options.targets, 'a non-empty list of site-name globs', 'ia3');
  }
  if (!Array.isArray(options.slices) || options.slices.length === 0 || options.slices.some((s) => typeof s !== 'string' || s === '')) {
    throw new OptionError('slices', options.slices, 'a non-empty list of slice names, e.g. ["k", "v"]', 'ia3');
  }
}
