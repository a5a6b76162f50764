import * as tf from '@tensorflow/tfjs-core';
import { dropout, type SiteInfo, type Transform } from '@vpeft/core';

/**
 * One low-rank update `B·A` at a site and the output columns it writes. Stored in tfjs layouts:
 * linear `A` `[in, r]`, `B` `[r, end - start]`; conv `A` `[kh, kw, in, r]` (a kxk conv with the
 * site's strides and padding), `B` `[1, 1, r, out]` (a 1x1 conv).
 */
export interface LoraFactor {
  /** The slice name (`q`, `v`) for a fused-output slice; absent for the whole matrix. */
  readonly slice?: string;
  /** Down projection `A`. */
  readonly down: tf.Variable;
  /** Up projection `B`. */
  readonly up: tf.Variable;
  /** Output columns `[start, end)` the update writes. */
  readonly columns: readonly [number, number];
  /** DoRA only: the magnitude of each output column it adapts, `[end - start]`. */
  readonly magnitude?: tf.Variable;
}

/** Everything LoRA keeps at one site: its factors and the scale `alpha / r` (or `alpha / √r`). */
export interface LoraSiteState {
  readonly site: SiteInfo;
  readonly factors: readonly LoraFactor[];
  readonly scale: number;
  readonly dropout: number;
  /** DoRA: the base weight, read by the magnitude/direction decomposition. */
  readonly weight?: tf.Variable;
}

/** `A` of every factor side by side: `[in, k·r]` (k = number of factors). */
export function stackedDown(factors: readonly LoraFactor[]): tf.Tensor2D {
  if (factors.length === 1) return factors[0]!.down as tf.Tensor2D;
  return tf.concat(factors.map((f) => f.down as tf.Tensor2D), 1);
}

/**
 * `B` of every factor placed at its output columns: `[k·r, out]`, zero outside each factor's
 * columns, so `stackedDown · stackedUp` is the sum of the factors' updates over the full output.
 */
export function stackedUp(factors: readonly LoraFactor[], outFeatures: number): tf.Tensor2D {
  const placed = factors.map((f) => {
    const [start, end] = f.columns;
    const up = f.up as tf.Tensor2D;
    return start === 0 && end === outFeatures ? up : tf.pad(up, [[0, 0], [start, outFeatures - end]]);
  });
  return placed.length === 1 ? placed[0]! : tf.concat(placed, 0);
}

/**
 * `up · scale`: LoRA's scale folded into its up factor (`[k·r, out]`, or `[1, 1, r, out]`) rather
 * than applied to the `[rows, out]` term (and again to its gradient), which is `rows / (k·r)` times
 * larger; `up` itself for scale 1 (the default, alpha = r). The same result bit for bit when the
 * scale is a power of two; otherwise each element may differ by float32 rounding (the scale is
 * rounded into each B element instead of into each sum).
 */
export function scaledUp<T extends tf.Tensor>(up: T, scale: number): T {
  return scale === 1 ? up : tf.mul(up, scale);
}

/** The LoRA term of a linear site: `scale · x·A·B` for `x` `[rows, in]`, as `[rows, out]` (computed as `x·A·(scale·B)`). */
export function linearLoraTerm(x: tf.Tensor2D, state: LoraSiteState): tf.Tensor2D {
  return tf.tidy(() => {
    const down = tf.matMul(x, stackedDown(state.factors));
    return tf.matMul(down, scaledUp(stackedUp(state.factors, state.site.outFeatures!), state.scale));
  });
}

/** The LoRA term of a conv site: `scale · conv1x1(conv_kxk(x, A), B)` for NHWC `x` (computed with `scale·B`). */
export function convLoraTerm(x: tf.Tensor4D, state: LoraSiteState): tf.Tensor4D {
  const { site } = state;
  const factor = state.factors[0]!;
  return tf.tidy(() => {
    const down = tf.conv2d(x, factor.down as tf.Tensor4D, (site.strides ?? [1, 1]) as [number, number], site.padding ?? 'valid');
    return tf.conv2d(down, scaledUp(factor.up as tf.Tensor4D, state.scale), 1, 'valid');
  });
}

/** The transform at a linear site: `next(x) + scale · dropout(x)·A·B`. */
export function linearLoraTransform(state: LoraSiteState): Transform<'linear'> {
  return (x, next, ctx) => {
    const base = next(x);
    const out = tf.tidy(() => tf.add(base, linearLoraTerm(dropout(x, state.dropout, ctx.training), state)) as tf.Tensor2D);
    if (base !== x) base.dispose();
    return out;
  };
}

/** The transform at a conv site: `next(x) + scale · conv1x1(conv_kxk(dropout(x), A), B)`. */
export function convLoraTransform(state: LoraSiteState): Transform<'conv'> {
  return (x, next, ctx) => {
    const base = next(x);
    const out = tf.tidy(() => tf.add(base, convLoraTerm(dropout(x, state.dropout, ctx.training), state)) as tf.Tensor4D);
    if (base !== x) base.dispose();
    return out;
  };
}
