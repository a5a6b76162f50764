import { OptionError } from '@vpeft/core';

/** Options of the `ssf` method. */
export interface SsfOptions {
  /**
   * Globs over linear, conv and norm site names; SSF scales and shifts each matched site's output
   * channels. The default is the reference placement on a ViT.
   */
  targets: string[];
  /**
   * Standard deviation of the initialisation, scale ~ N(1, std) and shift ~ N(0, std) (dongzelian/SSF
   * uses 0.02). `0` starts at the identity (scale 1, shift 0).
   */
  std: number;
}

/**
 * Defaults: the placement of dongzelian/SSF on a ViT — after the patch embedding, norm1, qkv, proj,
 * norm2, fc1 and fc2 of every block, and after the final norm — with its N(1, 0.02) / N(0, 0.02) init.
 */
export const SSF_DEFAULTS: SsfOptions = {
  // The reference placement by role: after the patch embedding, every norm and every block linear; on a CNN after every BatchNorm.
  targets: ['@embedding', '@norm', '@attention.qkv', '@attention.out', '@mlp.in', '@mlp.out'],
  std: 0.02,
};

/** Throws an {@link OptionError} naming the option, the value given and what is allowed. */
export function validateSsfOptions(options: SsfOptions): void {
  const { targets, std } = options;
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string' || t === '')) {
    throw new OptionError('targets', targets, 'a non-empty array of site-name globs, e.g. ["blocks.*.mlp.fc1", "norm"]', 'ssf');
  }
  if (typeof std !== 'number' || !Number.isFinite(std) || std < 0) {
    throw new OptionError('std', std, 'a non-negative number (init scale ~ N(1, std), shift ~ N(0, std); 0 = identity)', 'ssf');
  }
}
