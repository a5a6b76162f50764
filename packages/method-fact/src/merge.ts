import * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore } from '@vpeft/core';
import type { FactSiteState } from './transform';

/**
 * The update FacT adds to a site's weight `[in, out]`: `'out'` layouts, output chunk c is
 * `s·U·Σ_c·V` (`[D, k·D]`); `'in'` layouts, input chunk c is `s·U·Σ_c·V` (`[k·D, D]`).
 */
export function factWeightDelta(state: FactSiteState): tf.Tensor2D {
  const { shared, layout } = state;
  const [dim, r] = shared.u.shape as [number, number];
  const k = layout.chunks;
  return tf.tidy(() => {
    const core = state.core();
    const u = shared.u as tf.Tensor2D;
    const v = shared.v as tf.Tensor2D;
    if (layout.mode === 'out') {
      // [D, k·r] -> [D·k, r] -> ·V -> [D·k, D] -> [D, k·D]: chunk c of each row is (U·Σ_c·V)[row].
      const blocks = tf.matMul(tf.reshape(tf.matMul(u, core), [dim * k, r]), v);
      return tf.mul(tf.reshape(blocks, [dim, k * dim]), state.scale) as tf.Tensor2D;
    }
    const rowsOf = Array.from({ length: k }, (_, c) => tf.matMul(tf.matMul(u, tf.slice(core, [c * r, 0], [r, r])), v));
    return tf.mul(tf.concat(rowsOf, 0), state.scale) as tf.Tensor2D;
  });
}

/** Adds (`sign` 1, merge) or subtracts (`sign` -1, unmerge) the FacT update to the site's weight. */
export function foldFact(state: FactSiteState, weightName: string, backbone: ParameterStore, sign: 1 | -1): void {
  const weight = backbone.variable(weightName);
  const updated = tf.tidy(() => (sign === 1 ? tf.add(weight, factWeightDelta(state)) : tf.sub(weight, factWeightDelta(state))));
  weight.assign(updated);
  updated.dispose();
}
