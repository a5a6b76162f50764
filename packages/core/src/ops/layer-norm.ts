import * as tf from '@tensorflow/tfjs-core';
import { FUSED_KERNELS, hasFusedKernel, runFusedKernel } from './fused-kernels';

/**
 * LayerNorm over the last axis, `γ·(x − μ)/√(σ² + eps) + β`, with a custom gradient that saves
 * only x̂ and 1/σ (the composed ops keep ~6 full-size intermediates on the tape):
 * `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))` with `g = dy·γ`; `dγ = Σ dy·x̂`, `dβ = Σ dy`. Both
 * directions run one kernel where the backend registers {@link FUSED_KERNELS} `layerNorm`/`layerNormGrad`
 * (wasm), else composed tfjs ops.
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
    const fused = hasFusedKernel(FUSED_KERNELS.layerNorm, input, g, b) && g.rank === 1 && b.rank === 1;
    const [value, xhat, rstd] = fused
      ? (runFusedKernel(FUSED_KERNELS.layerNorm, { x: input, gamma: g, beta: b }, { epsilon: eps }) as tf.Tensor[])
      : composedLayerNorm(input, g, b, eps);
    save([xhat!, rstd!, g]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedXhat, savedRstd, savedGamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        if (hasFusedKernel(FUSED_KERNELS.layerNormGrad, dy, savedXhat, savedRstd, savedGamma) && tf.util.arraysEqual(dy.shape, savedXhat.shape)) {
          return runFusedKernel(FUSED_KERNELS.layerNormGrad, { dy, xhat: savedXhat, rstd: savedRstd, gamma: savedGamma }) as tf.Tensor[];
        }
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

/** y, x̂ and 1/σ from tfjs ops (backends without the fused kernel). */
function composedLayerNorm(input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(input, input.rank - 1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(input, mean), rstd);
    return [tf.add(tf.mul(xhat, g), b), xhat, rstd];
  });
}
