import * as tf from '@tensorflow/tfjs-core';

/** Inverted dropout, active only when `training` and `rate > 0`. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate <= 0) return x;
  return tf.dropout(x, rate) as T;
}

/**
 * Stochastic depth on a residual branch output `[B, ...]`: each sample's branch is dropped with
 * probability `rate` and survivors are scaled by 1/(1 − rate). Identity outside training.
 */
export function dropPath<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate <= 0) return x;
  return tf.tidy(() => {
    const keep = 1 - rate;
    const maskShape = [x.shape[0]!, ...Array<number>(x.rank - 1).fill(1)];
    const mask = tf.floor(tf.add(tf.randomUniform(maskShape), keep));
    return tf.mul(x, tf.div(mask, keep)) as T;
  });
}
