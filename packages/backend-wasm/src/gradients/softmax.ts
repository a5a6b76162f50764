import * as tf from '@tensorflow/tfjs-core';
import { FUSED } from '../kernels/fused-names';

/** `(dy − Σ dy·y)·y` over the last axis: one kernel where the backend has it, else tfjs's formula. */
function softmaxBackward(dy: tf.Tensor, y: tf.Tensor, dim: number): tf.Tensor {
  const last = dim === -1 || dim === y.rank - 1;
  if (last && tf.getKernel(FUSED.softmaxGrad, tf.getBackend()) !== undefined && dy.dtype === 'float32' && y.dtype === 'float32' && tf.util.arraysEqual(dy.shape, y.shape)) {
    return tf.engine().runKernel(FUSED.softmaxGrad, { y, dy }) as tf.Tensor;
  }
  const dyTimesY = tf.mul(dy, y);
  return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
}

/**
 * The gradient of `Softmax` (`tf.softmax`; every attention): on wasm one pass per row
 * ({@link FUSED}.softmaxGrad) instead of four full-size kernels; elsewhere tfjs's own formula.
 */
export const softmaxGradConfig: tf.GradConfig = {
  kernelName: 'Softmax',
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [y] = saved as [tf.Tensor];
    const { dim } = attrs as unknown as tf.SoftmaxAttrs;
    return { logits: () => softmaxBackward(dy as tf.Tensor, y, dim) };
  },
};
