import { OptionError } from '@vpeft/core';

/** Options of the sequential `adapter`. */
export interface AdapterOptions {
  /** Bottleneck width m. */
  bottleneck: number;
  /** `mlp`: one adapter after each block's MLP branch ("Pfeiffer" placement, as vision papers use it); `houlsby`: after attention too. */
  placement: 'mlp' | 'houlsby';
  /** Non-linearity between down and up (`quick-gelu`: `x·σ(1.702x)`, NOAH's). */
  activation: 'gelu' | 'relu' | 'quick-gelu';
  /**
   * Per-block bottleneck widths (one entry per block, 0 = no adapter in that block), e.g. a NOAH
   * subnet's ADAPTER_DIM. Overrides `bottleneck`; empty (the default) puts `bottleneck` in every block.
   */
  perBlock: number[];
}

/** Options of `adaptformer` (parallel to the MLP on the residual stream). */
export interface AdaptFormerOptions {
  bottleneck: number;
  /** Scale s of the parallel branch. */
  scale: number;
  /** Dropout after the ReLU, training only. */
  dropout: number;
}

/** Options of `convpass`. */
export interface ConvpassOptions {
  bottleneck: number;
  /** Scale s of the bypass. */
  scale: number;
  /** Dropout before the up-projection, training only. */
  dropout: number;
  /** Branches to put a bypass beside. */
  branches: Array<'attn' | 'mlp'>;
  /** 3x3 conv init: `identity` (zeros with the centre tap the identity, as the reference) or `xavier`. */
  convInit: 'identity' | 'xavier';
}

export const ADAPTER_DEFAULTS: AdapterOptions = { bottleneck: 8, placement: 'mlp', activation: 'gelu', perBlock: [] };
export const ADAPTFORMER_DEFAULTS: AdaptFormerOptions = { bottleneck: 64, scale: 0.1, dropout: 0.1 };
export const CONVPASS_DEFAULTS: ConvpassOptions = { bottleneck: 8, scale: 1, dropout: 0.1, branches: ['attn', 'mlp'], convInit: 'identity' };

function checkBottleneck(value: number, method: string): void {
  if (!Number.isInteger(value) || value < 1) throw new OptionError('bottleneck', value, 'a positive integer (the bottleneck width m)', method);
}

function checkRate(value: number, method: string): void {
  if (!(typeof value === 'number' && value >= 0 && value < 1)) throw new OptionError('dropout', value, 'a number in [0, 1)', method);
}

function checkScale(value: number, method: string): void {
  if (!(typeof value === 'number' && Number.isFinite(value))) throw new OptionError('scale', value, 'a finite number', method);
}

export function validateAdapterOptions(o: AdapterOptions): void {
  checkBottleneck(o.bottleneck, 'adapter');
  if (o.placement !== 'mlp' && o.placement !== 'houlsby') throw new OptionError('placement', o.placement, '"mlp" or "houlsby"', 'adapter');
  if (!['gelu', 'relu', 'quick-gelu'].includes(o.activation)) throw new OptionError('activation', o.activation, '"gelu", "relu" or "quick-gelu"', 'adapter');
  if (!Array.isArray(o.perBlock) || o.perBlock.some((m) => !Number.isInteger(m) || m < 0) || (o.perBlock.length > 0 && o.perBlock.every((m) => m === 0))) {
    throw new OptionError('perBlock', o.perBlock, 'a list of non-negative integers (bottleneck width per block, 0 = none), not all 0', 'adapter');
  }
}

export function validateAdaptFormerOptions(o: AdaptFormerOptions): void {
  checkBottleneck(o.bottleneck, 'adaptformer');
  checkScale(o.scale, 'adaptformer');
  checkRate(o.dropout, 'adaptformer');
}

export function validateConvpassOptions(o: ConvpassOptions): void {
  checkBottleneck(o.bottleneck, 'convpass');
  checkScale(o.scale, 'convpass');
  checkRate(o.dropout, 'convpass');
  if (!Array.isArray(o.branches) || o.branches.length === 0 || o.branches.some((b) => b !== 'attn' && b !== 'mlp')) {
    throw new OptionError('branches', o.branches, 'a non-empty list of "attn" and "mlp"', 'convpass');
  }
  if (o.convInit !== 'identity' && o.convInit !== 'xavier') throw new OptionError('convInit', o.convInit, '"identity" or "xavier"', 'convpass');
}
