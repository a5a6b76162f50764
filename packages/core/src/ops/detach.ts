import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from './without-gradient';

/**
 * A copy of `x` that carries no gradient back: nothing computed from it reaches what `x` was computed
 * from. (PyTorch's `x.detach()`.) The copy is made outside the gradient tape and hangs off a fresh
 * constant, so backpropagation never even visits the ops that produced `x`. Cheap: on cpu and wasm a
 * clone shares `x`'s memory.
 */
export function detach<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => withoutGradient(tf.scalar(0), () => tf.clone(x)));
}
