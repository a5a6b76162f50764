import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` outside the gradient tape and returns its result as a constant of `input`: nothing inside
 * is recorded for backprop (tfjs does not tape ops inside a custom-gradient forward) and the gradient
 * to `input` is zero. A frozen feature extractor costs what inference costs, in time and memory.
 */
export function withoutGradient<T extends tf.Tensor>(input: tf.Tensor, fn: () => T): T {
  const constant = tf.customGrad(((x: tf.Tensor) => ({
    value: fn(),
    gradFunc: () => tf.zerosLike(x),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return constant(input) as T;
}
