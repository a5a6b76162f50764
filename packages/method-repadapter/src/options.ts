import { OptionError } from '@vpeft/core';

/** Options of the `repadapter` method. */
export interface RepAdapterOptions {
  /** Hidden width of the adapter (the reference's `dim`); a positive multiple of `groups`. */
  hidden: number;
  /** Groups of the up projection (a grouped 1x1 conv in the reference); divides `hidden` and the site's input width. */
  groups: number;
  /** Scale `s` of the adapter branch (the reference tunes it per dataset). */
  scale: number;
  /** Dropout between the two projections (the reference uses 0.1), training only, in [0, 1). */
  dropout: number;
  /**
   * Globs over the linear sites the adapter goes in front of. Default: every block's qkv and fc1 —
   * the reference's `repblock` (after norm1 and norm2); `['blocks.*.attn.qkv']` is its `repattn`.
   */
  targets: string[];
}

/** Defaults: hidden 8, 2 groups, scale 1, dropout 0.1, before every qkv and fc1 (`repblock`). */
export const REPADAPTER_DEFAULTS: RepAdapterOptions = {
  hidden: 8,
  groups: 2,
  scale: 1,
  dropout: 0.1,
  // Before each block's qkv and fc1 (the paper's placement), by role.
  targets: ['@attention.qkv', '@mlp.in'],
};

/** Throws an {@link OptionError} naming the option, the value given and what is allowed. */
export function validateRepAdapterOptions(options: RepAdapterOptions): void {
  const { hidden, groups, scale, dropout, targets } = options;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups <= 0) throw new OptionError('groups', groups, 'a positive integer', 'repadapter');
  if (typeof hidden !== 'number' || !Number.isInteger(hidden) || hidden <= 0 || hidden % groups !== 0) {
    throw new OptionError('hidden', hidden, `a positive integer divisible by groups (${groups})`, 'repadapter');
  }
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new OptionError('scale', scale, 'a finite number', 'repadapter');
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new OptionError('dropout', dropout, 'a rate in [0, 1)', 'repadapter');
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string' || t === '')) {
    throw new OptionError('targets', targets, 'a non-empty array of linear-site globs, e.g. ["blocks.*.attn.qkv"]', 'repadapter');
  }
}
