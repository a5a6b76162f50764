/**
 * The matrix products of a ViT-Ti/16 (224) train step at batch 8 (`pnpm bench:gemm`'s shapes), how
 * often a LoRA step runs each, their rate measured alone on the active backend, and the products-only
 * ceiling: the time a LoRA step would take if nothing but these products ran, at those rates.
 *
 * LoRA (q, v) on every block back-propagates the input gradient through every product but computes no
 * frozen-weight gradient: per image, each linear product runs twice (forward, dX; same multiply-adds
 * as the forward shape) and each attention product three times (forward, two operand gradients).
 */
import * as tf from '@tensorflow/tfjs-core';

/** [name, batch, M, K, N, passes in a LoRA step]; batch 8 of ViT-Ti/16: 8·197 = 1,576 tokens, 3 heads of 64. */
export const VIT_TI_PRODUCTS: ReadonlyArray<readonly [string, number, number, number, number, number]> = [
  ['qkv 1576x192 · 192x576', 1, 1576, 192, 576, 2],
  ['proj 1576x192 · 192x192', 1, 1576, 192, 192, 2],
  ['fc1 1576x192 · 192x768', 1, 1576, 192, 768, 2],
  ['fc2 1576x768 · 768x192', 1, 1576, 768, 192, 2],
  ['attn q·kᵀ 24 x 197x64 · 64x197', 24, 197, 64, 197, 3],
  ['attn p·v 24 x 197x197 · 197x64', 24, 197, 197, 64, 3],
];
/** Images per measured batch and transformer blocks of ViT-Ti. */
export const IMAGES = 8;
export const BLOCKS = 12;

/**
 * Which clock times a product: `wall` (elapsed time) or `cpu` (this process's CPU time, from
 * `process.cpuUsage`: what a single-threaded computation costs even when other jobs share the cores).
 */
export type Clock = 'wall' | 'cpu';

/** Milliseconds on `clock` since an arbitrary origin. */
export function now(clock: Clock): number {
  if (clock === 'wall') return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** GFLOP/s of tf.matMul per shape on the active backend (median over ~`seconds` per shape). */
export function measureProductRates(seconds: number, clock: Clock = 'wall'): number[] {
  const gflops: number[] = [];
  for (const [, batch, m, k, n] of VIT_TI_PRODUCTS) {
    const a = tf.randomUniform(batch > 1 ? [batch, m, k] : [m, k], 0, 1, 'float32', 1);
    const b = tf.randomUniform(batch > 1 ? [batch, k, n] : [k, n], 0, 1, 'float32', 2);
    const run = () => tf.tidy(() => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D)).dispose();
    for (let i = 0; i < 3; i++) run();
    const times: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline || times.length < 5) {
      const t0 = now(clock);
      run();
      times.push(now(clock) - t0);
    }
    times.sort((x, y) => x - y);
    gflops.push((2 * batch * m * k * n) / (times[times.length >> 1]! / 1000) / 1e9);
    tf.dispose([a, b]);
  }
  return gflops;
}

/** Seconds a LoRA step on {@link IMAGES} images takes if only its products ran, at `gflops` per shape. */
export function loraCeilingSeconds(gflops: readonly number[]): number {
  return VIT_TI_PRODUCTS.reduce((sum, [, batch, m, k, n, passes], i) => sum + (BLOCKS * passes * 2 * batch * m * k * n) / (gflops[i]! * 1e9), 0);
}
