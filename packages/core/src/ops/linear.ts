import * as tf from '@tensorflow/tfjs-core';

/**
 * `x·W + b` for `x` `[rows, in]` and `W` stored `[in, out]` (the tfjs layout of a PyTorch `[out, in]`
 * weight), as one fused product (`tf.fused.matMul`): the wasm backend adds the bias inside the
 * XNNPACK product instead of a separate broadcasting Add over the whole output.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (!bias) return tf.matMul(x, weight) as tf.Tensor2D;
  return tf.fused.matMul({ a: x, b: weight, bias }) as tf.Tensor2D;
}
