import * as tf from '@tensorflow/tfjs-core';

/** `x·W + b` for `x` `[rows, in]` and `W` stored `[in, out]` (the tfjs layout of a PyTorch `[out, in]` weight). */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  const y = tf.matMul(x, weight) as tf.Tensor2D;
  if (!bias) return y;
  const out = tf.add(y, bias) as tf.Tensor2D;
  y.dispose();
  return out;
}
