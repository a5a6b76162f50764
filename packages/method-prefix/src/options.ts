import { OptionError } from '@vpeft/core';

/** Options of the `prefix` method. */
export interface PrefixOptions {
  /** Prefixes per attention layer (p): each layer gets p keys and p values. */
  tokens: number;
  /** Globs over attention site names; default every block's `blocks.*.attn.core`. */
  targets: string[];
  /**
   * Reparameterise the prefixes through an MLP during training (Li & Liang, 2021; Hugging Face
   * PEFT's `prefix_projection`): one embedding `[p, D]` and `Linear(D, hidden) → tanh` shared by all
   * layers, and each layer's block of the output `Linear(hidden, 2·D)` giving its keys and values.
   * Fold it afterwards with `foldPrefixProjection` (same outputs, plain prefixes).
   */
  projection: boolean;
  /** Hidden width of the reparameterisation MLP (PEFT's `encoder_hidden_size`); used with `projection`. */
  hidden: number;
  /** Standard deviation of the (truncated-normal) initial prefixes, or of the MLP's embedding. */
  initStd: number;
}

/** Defaults: 10 prefixes in every block, no MLP, hidden 512 when the MLP is used, std 0.02. */
export const PREFIX_DEFAULTS: PrefixOptions = {
  tokens: 10,
  targets: ['@attention.core'],
  projection: false,
  hidden: 512,
  initStd: 0.02,
};

/** Checks `prefix` options; errors name the option, the value and what is allowed. */
export function validatePrefixOptions(options: PrefixOptions): void {
  const { tokens, targets, projection, hidden, initStd } = options;
  if (!Number.isInteger(tokens) || tokens < 1) throw new OptionError('tokens', tokens, 'a positive integer (prefixes per attention layer)', 'prefix');
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string' || t === '')) {
    throw new OptionError('targets', targets, 'a non-empty array of attention-site globs, e.g. ["blocks.*.attn.core"]', 'prefix');
  }
  if (typeof projection !== 'boolean') throw new OptionError('projection', projection, 'true or false', 'prefix');
  if (!Number.isInteger(hidden) || hidden < 1) throw new OptionError('hidden', hidden, 'a positive integer (MLP hidden width)', 'prefix');
  if (typeof initStd !== 'number' || !(initStd > 0) || !Number.isFinite(initStd)) throw new OptionError('initStd', initStd, 'a positive number', 'prefix');
}
