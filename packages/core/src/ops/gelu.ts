import * as tf from '@tensorflow/tfjs-core';
import { FUSED_KERNELS, hasFusedKernel, runFusedKernel } from './fused-kernels';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU, `0.5·x·(1 + erf(x/√2))`, with a custom gradient that saves only `x`:
 * `d/dx = 0.5·(1 + erf(x/√2)) + x·φ(x)`, φ the standard normal density. The tape keeps one
 * tensor instead of the five intermediates of the composed ops. Both directions run one kernel
 * where the backend registers {@link FUSED_KERNELS} `gelu`/`geluGrad` (wasm), else composed tfjs ops.
 */
export const gelu: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const value = hasFusedKernel(FUSED_KERNELS.gelu, x)
    ? (runFusedKernel(FUSED_KERNELS.gelu, { x }) as tf.Tensor)
    : tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, INV_SQRT2)))));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input] = saved as [tf.Tensor];
      if (hasFusedKernel(FUSED_KERNELS.geluGrad, dy, input)) return [runFusedKernel(FUSED_KERNELS.geluGrad, { dy, x: input }) as tf.Tensor];
      return tf.tidy(() => {
        const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(input, INV_SQRT2))), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(input), -0.5)), INV_SQRT_2PI);
        return [tf.mul(dy, tf.add(cdf, tf.mul(input, pdf)))];
      });
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** QuickGELU, `x·σ(1.702x)` (CLIP; Convpass). */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}
