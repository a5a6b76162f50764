import * as tf from '@tensorflow/tfjs-core';
import { dropout, type Transform } from '@vpeft/core';
import type { CoreFn, FactLayout, FactShared } from './cores';

/** Everything FacT keeps at one site. */
export interface FactSiteState {
  readonly shared: FactShared;
  readonly core: CoreFn;
  readonly layout: FactLayout;
  readonly scale: number;
  readonly dropout: number;
}

/**
 * The FacT term for `x` `[rows, in]`, as the reference computes it: `'out'` layouts
 * `reshape(dropout(x·U·Σ), [rows·k, r])·V` reshaped `[rows, k·D]`; `'in'` layouts
 * `dropout(reshape(reshape(x, [rows·k, D])·U, [rows, k·r])·Σ)·V`; times the scale.
 */
export function factTerm(x: tf.Tensor2D, state: FactSiteState, training: boolean): tf.Tensor2D {
  const { shared, layout } = state;
  const [dim, r] = shared.u.shape as [number, number];
  const rows = x.shape[0];
  const k = layout.chunks;
  return tf.tidy(() => {
    const core = state.core();
    if (layout.mode === 'out') {
      const hidden = dropout(tf.matMul(tf.matMul(x, shared.u as tf.Tensor2D), core), state.dropout, training);
      const up = tf.matMul(tf.reshape(hidden, [rows * k, r]), shared.v as tf.Tensor2D);
      return tf.mul(tf.reshape(up, [rows, k * dim]), state.scale) as tf.Tensor2D;
    }
    const down = tf.reshape(tf.matMul(tf.reshape(x, [rows * k, dim]), shared.u as tf.Tensor2D), [rows, k * r]);
    const hidden = dropout(tf.matMul(down, core), state.dropout, training);
    return tf.mul(tf.matMul(hidden, shared.v as tf.Tensor2D), state.scale) as tf.Tensor2D;
  });
}

/** The transform at a linear site: `next(x) + s·FacT(x)`. */
export function factTransform(state: FactSiteState): Transform<'linear'> {
  return (x, next, ctx) => {
    const base = next(x);
    const out = tf.tidy(() => tf.add(base, factTerm(x, state, ctx.training)) as tf.Tensor2D);
    if (base !== x) base.dispose();
    return out;
  };
}
