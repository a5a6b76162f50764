import * as tf from '@tensorflow/tfjs-core';
import { CLIP_GRAD } from '../kernels/clip-grad';

/** `dy` masked to where `lo <= x <= hi`: the one-pass kernel where the backend has it, else tfjs's formula. */
function maskedGradient(dy: tf.Tensor, x: tf.Tensor, lo: number, hi: number): tf.Tensor {
  if (tf.getKernel(CLIP_GRAD, tf.getBackend()) !== undefined && dy.dtype === 'float32' && x.dtype === 'float32' && tf.util.arraysEqual(dy.shape, x.shape)) {
    return tf.engine().runKernel(CLIP_GRAD, { dy, x }, { clipValueMin: lo, clipValueMax: hi } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.where(tf.logicalAnd(tf.greaterEqual(x, lo), tf.lessEqual(x, hi)), dy, tf.zerosLike(dy));
}

/**
 * The gradient of `ClipByValue` (`tf.clipByValue`; Keras' ReLU6 in MobileNets): on wasm one pass
 * ({@link CLIP_GRAD}) instead of five full-size kernels; elsewhere tfjs's own formula.
 */
export const clipByValueGradConfig: tf.GradConfig = {
  kernelName: 'ClipByValue',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { clipValueMin, clipValueMax } = attrs as unknown as tf.ClipByValueAttrs;
    return { x: () => maskedGradient(dy as tf.Tensor, x, clipValueMin, clipValueMax) };
  },
};

/** The mask is linear in `dy`: its own gradient masks the same way; none flows to `x` (a step function). */
export const clipGradGradConfig: tf.GradConfig = {
  kernelName: CLIP_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { clipValueMin, clipValueMax } = attrs as unknown as tf.ClipByValueAttrs;
    return { dy: () => maskedGradient(ddy as tf.Tensor, x, clipValueMin, clipValueMax), x: () => tf.zerosLike(x) };
  },
};
