import { OptionError } from '@vpeft/core';

/** Options of the `side` method (Ladder Side-Tuning). */
export interface SideOptions {
  /** Reduction factor r: the side network is `D / r` wide (D the backbone's feature width). */
  reduction: number;
  /** Globs over the backbone's tap sites the ladder reads (in the backbone's order); default every tap (`**`). */
  taps: string[];
  /**
   * Side block after each ladder rung: `transformer` (a pre-norm transformer block of width D/r,
   * as LST's side network) or `mlp` (its MLP half only: an adapter ladder, cheaper).
   */
  block: 'transformer' | 'mlp';
  /** Attention heads of the side blocks; 0 (auto): the backbone's `numHeads` when it divides D/r, else 1. */
  heads: number;
  /** Initial gate parameter α (LST's `gate_alpha`); a gate is `sigmoid(α / T)`, so 0 starts at ½. */
  gateAlpha: number;
  /** Gate temperature T (LST's `gate_T`). */
  gateTemperature: number;
  /**
   * How the side output reaches the head: `gate` mixes it with the backbone's features,
   * `g·up(side) + (1 − g)·features` (LST's `merge_last`), `replace` feeds `up(side)` alone.
   */
  fusion: 'gate' | 'replace';
}

/** Defaults: r = 8, every tap, transformer side blocks, LST's gates (α = 0, T = 0.1), gated fusion. */
export const SIDE_DEFAULTS: SideOptions = {
  reduction: 8,
  taps: ['**'],
  block: 'transformer',
  heads: 0,
  gateAlpha: 0,
  gateTemperature: 0.1,
  fusion: 'gate',
};

/** Checks `side` options; errors name the option, the value and what is allowed. */
export function validateSideOptions(options: SideOptions): void {
  const { reduction, taps, block, heads, gateAlpha, gateTemperature, fusion } = options;
  if (!Number.isInteger(reduction) || reduction < 1) throw new OptionError('reduction', reduction, 'a positive integer (side width = D / reduction)', 'side');
  if (!Array.isArray(taps) || taps.length === 0 || taps.some((t) => typeof t !== 'string' || t === '')) {
    throw new OptionError('taps', taps, 'a non-empty array of tap-site globs, e.g. ["blocks.*.output"]', 'side');
  }
  if (block !== 'transformer' && block !== 'mlp') throw new OptionError('block', block, '"transformer" or "mlp"', 'side');
  if (!Number.isInteger(heads) || heads < 0) throw new OptionError('heads', heads, '0 (auto) or a positive integer dividing the side width', 'side');
  if (typeof gateAlpha !== 'number' || !Number.isFinite(gateAlpha)) throw new OptionError('gateAlpha', gateAlpha, 'a finite number', 'side');
  if (typeof gateTemperature !== 'number' || !(gateTemperature > 0)) throw new OptionError('gateTemperature', gateTemperature, 'a positive number', 'side');
  if (fusion !== 'gate' && fusion !== 'replace') throw new OptionError('fusion', fusion, '"gate" or "replace"', 'side');
}
