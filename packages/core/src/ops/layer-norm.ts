import * as tf from '@tensorflow/tfjs-core';

/**
 * LayerNorm over the last axis, `γ·(x − μ)/√(σ² + eps) + β`, with a custom gradient that saves
 * only x̂ and 1/σ (the composed ops keep ~6 full-size intermediates on the tape):
 * `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))` with `g = dy·γ`; `dγ = Σ dy·x̂`, `dβ = Σ dy`.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  let fn = byEps.get(eps);
  if (!fn) {
    fn = makeLayerNorm(eps);
    byEps.set(eps, fn);
  }
  return fn(x, gamma, beta);
}

type LayerNormFn = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;
const byEps = new Map<number, LayerNormFn>();

function makeLayerNorm(eps: number): LayerNormFn {
  return tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const axis = input.rank - 1;
    const [xhat, rstd] = tf.tidy(() => {
      const { mean, variance } = tf.moments(input, axis, true);
      const r = tf.rsqrt(tf.add(variance, eps));
      return [tf.mul(tf.sub(input, mean), r), r];
    });
    save([xhat!, rstd!, g]);
    const value = tf.tidy(() => tf.add(tf.mul(xhat!, g), b));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedXhat, savedRstd, savedGamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.tidy(() => {
          const lastAxis = dy.rank - 1;
          const reduceAxes = Array.from({ length: dy.rank - 1 }, (_, i) => i);
          const grad = tf.mul(dy, savedGamma);
          const meanGrad = tf.mean(grad, lastAxis, true);
          const meanGradXhat = tf.mean(tf.mul(grad, savedXhat), lastAxis, true);
          const dx = tf.mul(tf.sub(tf.sub(grad, meanGrad), tf.mul(savedXhat, meanGradXhat)), savedRstd);
          const dGamma = tf.sum(tf.mul(dy, savedXhat), reduceAxes);
          const dBeta = tf.sum(dy, reduceAxes);
          return [dx, dGamma, dBeta];
        });
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as LayerNormFn;
}
