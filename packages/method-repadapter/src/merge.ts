import * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore, SiteInfo } from '@vpeft/core';
import { denseUp, type RepAdapterState } from './transform';

/** What merging added to a site's weight and bias, kept so unmerge restores them exactly. */
export interface RepAdapterFold {
  readonly weight: tf.Tensor;
  readonly bias: tf.Tensor;
}

/**
 * Folds the adapter into the linear op after it (the reference's `reparameterize`): with
 * `x' = x·(I + s·A·B) + s·(a·B + b)`, `y = x'·W + c` becomes `W' = W + s·A·B·W` and
 * `c' = c + s·(a·B + b)·W`. Returns the two deltas for {@link unfoldRepAdapter}.
 */
export function foldRepAdapter(state: RepAdapterState, site: SiteInfo, backbone: ParameterStore): RepAdapterFold {
  const weight = backbone.variable(site.weight!);
  const bias = backbone.variable(site.bias!);
  const fold = tf.tidy(() => {
    const up = denseUp(state.up);
    const map = tf.mul(tf.matMul(state.down as tf.Tensor2D, up), state.scale);
    const shift = tf.mul(tf.add(tf.matMul(tf.reshape(state.downBias, [1, -1]), up), state.upBias), state.scale);
    return { weight: tf.matMul(map, weight as tf.Tensor2D), bias: tf.reshape(tf.matMul(shift as tf.Tensor2D, weight as tf.Tensor2D), [-1]) };
  });
  apply(weight, bias, fold, 1);
  return fold;
}

/** Undoes {@link foldRepAdapter} with the deltas it returned, and disposes them. */
export function unfoldRepAdapter(site: SiteInfo, backbone: ParameterStore, fold: RepAdapterFold): void {
  apply(backbone.variable(site.weight!), backbone.variable(site.bias!), fold, -1);
  tf.dispose([fold.weight, fold.bias]);
}

function apply(weight: tf.Variable, bias: tf.Variable, fold: RepAdapterFold, sign: 1 | -1): void {
  const [w, b] = tf.tidy(() => (sign === 1 ? [tf.add(weight, fold.weight), tf.add(bias, fold.bias)] : [tf.sub(weight, fold.weight), tf.sub(bias, fold.bias)]));
  weight.assign(w!);
  bias.assign(b!);
  tf.dispose([w!, b!]);
}
