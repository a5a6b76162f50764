import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { VpeftError } from '../src/errors/errors';
import { multiHeadAttention, splitQkv } from '../src/ops/attention';
import { FUSED_KERNELS } from '../src/ops/fused-kernels';
import { qkvAttention } from '../src/ops/qkv-attention';
import { maxAbsDiff } from '../src/testing/fixtures';

beforeAll(async () => {
  await initBackend();
  await tf.setBackend('wasm');
});

afterEach(async () => {
  await tf.setBackend('wasm');
});

/** float32's unit roundoff, and the classic bound γ(k) on the relative error of a k-term float32 sum of products. */
const EPS = 2 ** -24;
const gamma = (k: number) => (k * EPS) / (1 - k * EPS);

/**
 * Bounds on |computed − exact| of one float32 implementation of attention over N tokens and head
 * width hd, for q, k, v and the context's gradient dC in [-1, 1] (scale s = 1/√hd), following the
 * error through each step (two implementations then differ by at most twice these):
 * - scores: |δS| ≤ (γ(hd) + ε)·s·hd (a dot product of hd terms, each |q·k| ≤ 1, and the scale);
 * - softmax: relative |δP|/P ≤ ρ = 2·|δS| + 2ε·2s·hd (the max subtracted, |S − max| ≤ 2s·hd) + γ(N) (the sum)
 *   + 4ε (exp and the division, within a few units of roundoff);
 * - context: |δC| ≤ ρ·Σ P|v| + γ(N)·Σ P|v| ≤ ρ + γ(N);
 * - dP = dC·vᵀ: |δdP| ≤ γ(hd)·hd, |dP| ≤ hd; dS = (dP − Σ dP·P)·P·s: Σ_j |δdS_j| ≤ σ = s·hd·(2γ(hd) + γ(N) + 3ρ + 4ε),
 *   Σ_j |dS_j| ≤ 2s·hd; dq = dS·k: |δdq| ≤ σ + γ(N)·2s·hd. dk = dSᵀ·q and dv = Pᵀ·dC sum down a
 *   column of P instead of along a row: `columnSum` (the largest column sum of P, ≥ 1) times those
 *   bounds (columnSum·(ρ + γ(N)) for dv).
 */
function errorBounds(n: number, hd: number, columnSum: number): { value: number; dq: number; dk: number; dv: number } {
  const s = 1 / Math.sqrt(hd);
  const scores = (gamma(hd) + EPS) * s * hd;
  const rho = 2 * scores + 4 * EPS * s * hd + gamma(n) + 4 * EPS;
  const sigma = s * hd * (2 * gamma(hd) + gamma(n) + 3 * rho + 4 * EPS);
  const dq = sigma + gamma(n) * 2 * s * hd;
  return { value: 2 * (rho + gamma(n)), dq: 2 * dq, dk: 2 * columnSum * dq, dv: 2 * columnSum * (rho + gamma(n)) };
}

/** The largest column sum of the attention probabilities of any head (composed ops; slightly rounded up for their own rounding). */
function largestColumnSum(qkv: tf.Tensor, heads: number): number {
  return tf.tidy(() => {
    const { q, k } = splitQkv(qkv as tf.Tensor3D, heads);
    const probs = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[3])));
    return tf.max(tf.sum(probs, 2)).dataSync()[0]! * (1 + 1e-4);
  });
}

/** The largest difference in the q, k or v block (`block` 0, 1, 2) of two dqkv `[B, N, 3·d]`. */
function blockDiff(a: Float32Array, b: Float32Array, d: number, block: number): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (Math.floor((i % (3 * d)) / d) === block) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Expects dqkv within the q, k and v blocks' bounds of the reference. */
function expectGradientClose(actual: Float32Array, expected: Float32Array, d: number, bound: ReturnType<typeof errorBounds>): void {
  expect(blockDiff(actual, expected, d, 0), 'dq').toBeLessThanOrEqual(bound.dq);
  expect(blockDiff(actual, expected, d, 1), 'dk').toBeLessThanOrEqual(bound.dk);
  expect(blockDiff(actual, expected, d, 2), 'dv').toBeLessThanOrEqual(bound.dv);
}

/** Uniform values in [-1, 1). */
const uniform = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

const fused = (qkv: tf.Tensor, heads: number) => qkvAttention(qkv as tf.Tensor3D, heads);
const composed = (qkv: tf.Tensor, heads: number) => multiHeadAttention(splitQkv(qkv as tf.Tensor3D, heads));

/** The value and dqkv of `f` for the loss Σ f(qkv)·dC. */
function valueAndGradient(f: (qkv: tf.Tensor, heads: number) => tf.Tensor, qkv: tf.Tensor, dc: tf.Tensor, heads: number): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const value = f(qkv, heads);
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x, heads), dc)))(qkv);
    return [value.dataSync() as Float32Array, gradient.dataSync() as Float32Array];
  });
}

/** Runs `f` with kernels `names` unregistered from wasm, then registers them again. */
function without<T>(names: string[], f: () => T): T {
  const configs = names.map((name) => tf.getKernel(name, 'wasm')!);
  for (const name of names) tf.unregisterKernel(name, 'wasm');
  try {
    return f();
  } finally {
    for (const config of configs) tf.registerKernel(config);
  }
}

// [B, N, heads, hd]: odd token counts and head widths (the kernels' SIMD tails), B = 1, one head, and ViT-Ti's block.
const CASES: Array<[number, number, number, number]> = [[1, 7, 1, 5], [2, 13, 3, 6], [3, 5, 2, 1], [2, 9, 2, 8], [2, 197, 3, 64]];

describe('qkvAttention', () => {
  it('the wasm backend registers the fused kernels; cpu has none', () => {
    expect(tf.getKernel(FUSED_KERNELS.qkvAttention, 'wasm')).toBeDefined();
    expect(tf.getKernel(FUSED_KERNELS.qkvAttentionGrad, 'wasm')).toBeDefined();
    expect(tf.getKernel(FUSED_KERNELS.qkvAttention, 'cpu')).toBeUndefined();
  });

  for (const [b, n, heads, hd] of CASES) {
    it(`B=${b} N=${n} heads=${heads} hd=${hd}: the fused kernels equal the composed ops and their autodiff gradient`, () => {
      const d = heads * hd;
      const qkv = uniform([b, n, 3 * d], n * 31 + hd);
      const dc = uniform([b, n, d], n * 37 + hd);
      const [value, gradient] = valueAndGradient(fused, qkv, dc, heads);
      const [refValue, refGradient] = valueAndGradient(composed, qkv, dc, heads);
      const bound = errorBounds(n, hd, largestColumnSum(qkv, heads));
      expect(value.length).toBe(b * n * d);
      expect(gradient.length).toBe(b * n * 3 * d);
      expect(maxAbsDiff(value, refValue)).toBeLessThanOrEqual(bound.value);
      expectGradientClose(gradient, refGradient, d, bound);
      // Backward without the gradient kernel: dqkv composed from the saved probabilities.
      const [, fallback] = without([FUSED_KERNELS.qkvAttentionGrad], () => valueAndGradient(fused, qkv, dc, heads));
      expectGradientClose(fallback, refGradient, d, bound);
      tf.dispose([qkv, dc]);
    });
  }

  it('runs the fused kernels alone: no split, head transposes, concatenation or scale multiply', async () => {
    const qkv = uniform([2, 11, 18], 5);
    const dc = uniform([2, 11, 6], 6);
    const info = await tf.profile(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(qkvAttention(x as tf.Tensor3D, 2), dc)))(qkv));
    const names = new Set(info.kernels.map((k) => k.name));
    expect(names.has(FUSED_KERNELS.qkvAttention) && names.has(FUSED_KERNELS.qkvAttentionGrad)).toBe(true);
    for (const moved of ['SplitV', 'Transpose', 'Concat', 'BatchMatMul', 'Softmax']) expect(names.has(moved), moved).toBe(false);
    tf.dispose([qkv, dc, info.result as tf.Tensor]);
  });

  it('leaves no tensor behind, with and without a gradient tape', () => {
    const qkv = uniform([2, 9, 12], 7);
    const dc = uniform([2, 9, 4], 8);
    const gradient = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(qkvAttention(x as tf.Tensor3D, 2), dc)))(qkv);
    const before = tf.memory().numTensors;
    gradient().dispose();
    qkvAttention(qkv as tf.Tensor3D, 2).dispose();
    without([FUSED_KERNELS.qkvAttentionGrad], () => gradient().dispose());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([qkv, dc]);
  });

  it('falls back to the composed ops where the backend has no kernel (cpu): the same ops, the same bits', async () => {
    await tf.setBackend('cpu');
    const qkv = uniform([2, 7, 15], 9);
    const dc = uniform([2, 7, 5], 10);
    const [value, gradient] = valueAndGradient(fused, qkv, dc, 1);
    const [refValue, refGradient] = valueAndGradient(composed, qkv, dc, 1);
    expect(maxAbsDiff(value, refValue)).toBe(0);
    expect(maxAbsDiff(gradient, refGradient)).toBe(0);
    tf.dispose([qkv, dc]);
  });

  it('rejects a qkv width that 3·heads does not divide, and a bad head count', () => {
    const qkv = tf.zeros([1, 4, 12]) as tf.Tensor3D;
    expect(() => qkvAttention(qkv, 5)).toThrow(VpeftError);
    expect(() => qkvAttention(qkv, 5)).toThrow(/qkv \[1, 4, 12\] with 5 heads does not fit \[B, N, 3·heads·headDim\]/);
    expect(() => qkvAttention(qkv, 0)).toThrow(VpeftError);
    qkv.dispose();
  });
});
