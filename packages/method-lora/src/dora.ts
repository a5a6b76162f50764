import * as tf from '@tensorflow/tfjs-core';
import { dropout, withoutGradient, type Transform } from '@vpeft/core';
import { convLoraTerm, scaledUp, type LoraFactor, type LoraSiteState } from './transform';

/**
 * DoRA (Liu et al., 2024), as Hugging Face PEFT's `tuners/lora/dora.py` computes it. Per adapted
 * output column j: `V = W + scale·BA` (the LoRA-updated weight), `g_j = m_j / ‖V_{:,j}‖` with the
 * norm treated as a constant (no gradient, DoRA §4.3), and the site's output is
 * `x·W + b + (g − 1) ⊙ (x·W) + g ⊙ scale·(x·A·B)`, i.e. `x·(g ⊙ V) + b`. Weights are in tfjs layouts
 * (output channels on the last axis): linear `[in, out]`, conv `[kh, kw, in, out]`.
 */

/** The columns `[start, end)` of a weight along its last (output) axis. */
export function outputColumns(weight: tf.Tensor, columns: readonly [number, number]): tf.Tensor {
  const [start, end] = columns;
  const out = weight.shape[weight.rank - 1]!;
  if (start === 0 && end === out) return weight;
  const begin = weight.shape.map((_, i) => (i === weight.rank - 1 ? start : 0));
  const size = weight.shape.map((d, i) => (i === weight.rank - 1 ? end - start : d));
  return tf.slice(weight, begin, size);
}

/** One factor's update `scale·A·B` in the layout of the weight columns it writes. */
export function factorDelta(factor: LoraFactor, scale: number): tf.Tensor {
  return tf.tidy(() => {
    if (factor.down.rank === 4) {
      const [kh, kw, inC, r] = factor.down.shape as [number, number, number, number];
      const out = factor.up.shape[3]!;
      const product = tf.matMul(tf.reshape(factor.down, [kh * kw * inC, r]), tf.reshape(factor.up, [r, out]));
      return tf.mul(tf.reshape(product, [kh, kw, inC, out]), scale);
    }
    return tf.mul(tf.matMul(factor.down as tf.Tensor2D, factor.up as tf.Tensor2D), scale);
  });
}

/** The L2 norm of each output column: over every axis but the last. */
export function columnNorms(weight: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(weight), weight.shape.slice(0, -1).map((_, i) => i))) as tf.Tensor1D);
}

/** `‖W_cols + scale·BA‖` per column, as a constant of the graph (no gradient flows through it). */
function directionNorms(state: LoraSiteState, factor: LoraFactor): tf.Tensor1D {
  return withoutGradient(factor.down, () =>
    tf.tidy(() => columnNorms(tf.add(outputColumns(state.weight!, factor.columns), factorDelta(factor, state.scale)))),
  );
}

/** `g = m / ‖W + scale·BA‖` per adapted column of one factor. */
export function doraColumnScale(state: LoraSiteState, factor: LoraFactor): tf.Tensor1D {
  return tf.tidy(() => tf.div(factor.magnitude!, directionNorms(state, factor)) as tf.Tensor1D);
}

/** Pads `[..., width]` with zero columns to the full output width at `columns`. */
function placeColumns(value: tf.Tensor, columns: readonly [number, number], out: number): tf.Tensor {
  const [start, end] = columns;
  if (start === 0 && end === out) return value;
  return tf.pad(value, value.shape.map((_, i) => (i === value.rank - 1 ? [start, out - end] : [0, 0])) as Array<[number, number]>);
}

/** The DoRA transform at a linear site (see the module comment); `x` is dropped out on the DoRA path as PEFT does. */
export function linearDoraTransform(state: LoraSiteState): Transform<'linear'> {
  const out = state.site.outFeatures!;
  return (x, next, ctx) => {
    const base = next(x);
    const result = tf.tidy(() => {
      const input = dropout(x, state.dropout, ctx.training) as tf.Tensor2D;
      const terms = state.factors.map((factor) => {
        const g = doraColumnScale(state, factor);
        const plain = tf.matMul(input, outputColumns(state.weight!, factor.columns) as tf.Tensor2D);
        const lora = tf.matMul(tf.matMul(input, factor.down as tf.Tensor2D), scaledUp(factor.up as tf.Tensor2D, state.scale));
        return placeColumns(tf.add(tf.mul(tf.sub(g, 1), plain), tf.mul(g, lora)), factor.columns, out);
      });
      return tf.add(base, terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Tensor2D;
    });
    if (base !== x) base.dispose();
    return result;
  };
}

/** The DoRA transform at a conv site: `next(x) + (g − 1) ⊙ conv(x, W) + g ⊙ scale·conv1x1(conv(x, A), B)`. */
export function convDoraTransform(state: LoraSiteState): Transform<'conv'> {
  const { site } = state;
  const factor = state.factors[0]!;
  return (x, next, ctx) => {
    const base = next(x);
    const result = tf.tidy(() => {
      const input = dropout(x, state.dropout, ctx.training) as tf.Tensor4D;
      const g = doraColumnScale(state, factor);
      const plain = tf.conv2d(input, state.weight as tf.Tensor4D, (site.strides ?? [1, 1]) as [number, number], site.padding ?? 'valid');
      return tf.add(base, tf.add(tf.mul(tf.sub(g, 1), plain), tf.mul(g, convLoraTerm(input, state)))) as tf.Tensor4D;
    });
    if (base !== x) base.dispose();
    return result;
  };
}

/**
 * Merges DoRA into the base weight: per factor `W_cols ← g ⊙ (W_cols + scale·BA)` with
 * `g = m / ‖W_cols + scale·BA‖`. Returns the `g` of each factor, which {@link unfoldDora} needs (the
 * norms cannot be recomputed from the merged weight), as PEFT caches them.
 */
export function foldDora(state: LoraSiteState): tf.Tensor1D[] {
  const weight = state.weight!;
  const out = weight.shape[weight.rank - 1]!;
  const scales: tf.Tensor1D[] = [];
  const updated = tf.tidy(() => {
    let next: tf.Tensor = weight;
    for (const factor of state.factors) {
      const direction = tf.add(outputColumns(weight, factor.columns), factorDelta(factor, state.scale));
      const g = tf.keep(tf.div(factor.magnitude!, columnNorms(direction)) as tf.Tensor1D);
      scales.push(g);
      next = tf.add(next, placeColumns(tf.sub(tf.mul(direction, g), outputColumns(weight, factor.columns)), factor.columns, out));
    }
    return next;
  });
  weight.assign(updated);
  updated.dispose();
  return scales;
}

/** Undoes {@link foldDora} with the scales it returned: `W_cols ← W'_cols / g − scale·BA`; disposes them. */
export function unfoldDora(state: LoraSiteState, scales: tf.Tensor1D[]): void {
  const weight = state.weight!;
  const out = weight.shape[weight.rank - 1]!;
  const restored = tf.tidy(() => {
    let next: tf.Tensor = weight;
    state.factors.forEach((factor, i) => {
      const merged = outputColumns(weight, factor.columns);
      const original = tf.sub(tf.div(merged, scales[i]!), factorDelta(factor, state.scale));
      next = tf.add(next, placeColumns(tf.sub(original, merged), factor.columns, out));
    });
    return next;
  });
  weight.assign(restored);
  restored.dispose();
  tf.dispose(scales);
}
