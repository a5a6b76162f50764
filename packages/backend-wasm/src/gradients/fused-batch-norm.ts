import * as tf from '@tensorflow/tfjs-core';

/**
 * The gradient of `FusedBatchNorm` (`tf.batchNorm`, used by every Keras BatchNormalization layer),
 * lean: tfjs's own computes `x - mean` and `dy * scale` over the whole activation for every call,
 * even when only the offset (BitFit) or the input gradient is wanted, and builds `dx` through a
 * `Tile` of the per-channel factor to the activation's full shape (on wasm the slowest kernel of a
 * MobileNetV2 BitFit step: half its time). Here each input's gradient is computed only when asked
 * for, per-channel factors broadcast instead of being tiled, and per-channel sums are reduced before
 * they are scaled. Same formulas:
 *
 *   s = rsqrt(variance + eps); dx = dy·scale·s; dOffset = Σ dy; dScale = s·Σ dy·(x − mean);
 *   dMean = −scale·s·Σ dy; dVariance = −½·scale·s³·Σ dy·(x − mean)
 *
 * (sums over the axes a per-channel statistic is broadcast along).
 */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const grad = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(axes.length ? tf.sum(t, axes) : t, mean.shape);
    const rstd = () => tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const scaled = (t: tf.Tensor) => (scale == null ? t : tf.mul(t, scale));
    const dyCentered = () => reduce(tf.mul(grad, tf.sub(x, mean)));
    return {
      x: () => tf.mul(grad, scaled(rstd())),
      mean: () => tf.neg(tf.mul(reduce(grad), scaled(rstd()))),
      variance: () => {
        const s = rstd();
        return tf.mul(tf.mul(dyCentered(), scaled(tf.mul(tf.mul(s, s), s))), tf.scalar(-0.5));
      },
      scale: () => tf.mul(dyCentered(), rstd()),
      offset: () => reduce(grad),
    };
  },
};
