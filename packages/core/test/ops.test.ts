import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { FUSED_KERNELS } from '../src/ops/fused-kernels';
import { gelu } from '../src/ops/gelu';
import { layerNorm } from '../src/ops/layer-norm';
import { linear } from '../src/ops/linear';
import { bicubicMatrix } from '../src/vit/resample';
import { maxAbsDiff } from '../src/testing/fixtures';

beforeAll(async () => {
  await initBackend();
});

// Independent references: the textbook formulas composed from tfjs ops, differentiated by tfjs autodiff.
const geluComposed = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
const layerNormComposed = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number) => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
};

describe('gelu', () => {
  it('matches 0.5·x·(1+erf(x/√2)) and its autodiff gradient', () => {
    const x = tf.randomNormal([64, 33], 0, 2, 'float32', 3);
    const dy = tf.randomNormal([64, 33], 0, 1, 'float32', 4);
    expect(maxAbsDiff(gelu(x).dataSync(), geluComposed(x).dataSync())).toBeLessThan(1e-6);
    const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x);
    const ref = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(geluComposed(t), dy)))(x);
    expect(maxAbsDiff(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
  });

  it('gives known values: gelu(0)=0, gelu(1)=0.8413447, gelu(-1)=-0.1586553', () => {
    const y = gelu(tf.tensor1d([0, 1, -1])).dataSync();
    expect(y[0]).toBeCloseTo(0, 7);
    expect(y[1]).toBeCloseTo(0.8413447, 6);
    expect(y[2]).toBeCloseTo(-0.1586553, 6);
  });
});

describe('linear', () => {
  let x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, dy: tf.Tensor;
  beforeAll(() => {
    x = tf.randomNormal([37, 24], 0, 1, 'float32', 11);
    w = tf.randomNormal([24, 19], 0, 1, 'float32', 12);
    b = tf.randomNormal([19], 0, 1, 'float32', 13);
    dy = tf.randomNormal([37, 19], 0, 1, 'float32', 14);
  });
  // Reference: the unfused product plus a broadcasting add, differentiated by tfjs autodiff.
  const composed = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb);

  it('matches x·W + b and the autodiff gradients of x, W and b', () => {
    // float32 sums of 24 (value, dX), 19 or 37 (dW, db) unit-scale products: relative error ~1e-6.
    expect(maxAbsDiff(linear(x, w, b).dataSync(), composed(x, w, b).dataSync())).toBeLessThan(1e-4);
    const loss = (f: typeof composed) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, ww, bb), dy));
    const ours = tf.grads(loss((xx, ww, bb) => linear(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)))([x, w, b]);
    const ref = tf.grads(loss(composed))([x, w, b]);
    ours.forEach((g, i) => {
      expect(g.shape).toEqual(ref[i]!.shape);
      expect(maxAbsDiff(g.dataSync(), ref[i]!.dataSync())).toBeLessThan(1e-4);
    });
  });

  it("computes no frozen weight's gradient: one product for dX alone", async () => {
    const f = (xx: tf.Tensor) => tf.sum(tf.mul(linear(xx as tf.Tensor2D, w, b), dy));
    await linear(x, w, b).data();
    const info = await tf.profile(() => tf.grad(f)(x));
    const products = info.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul');
    // Forward (_FusedMatMul) and dX = dY·Wᵀ (BatchMatMul); tf.fused.matMul's eager gradient adds Xᵀ·dY.
    expect(products.map((k) => k.name)).toEqual(['_FusedMatMul', 'BatchMatMul']);
    expect(products[1]!.inputShapes).toEqual([[1, 37, 19], [1, 24, 19]]);
  });
});

describe('layerNorm', () => {
  it('matches the composed formula in value and in all three gradients', () => {
    const x = tf.randomNormal([3, 5, 24], 1, 3, 'float32', 5);
    const g = tf.randomNormal([24], 1, 0.2, 'float32', 6) as tf.Tensor1D;
    const b = tf.randomNormal([24], 0, 0.2, 'float32', 7) as tf.Tensor1D;
    const dy = tf.randomNormal([3, 5, 24], 0, 1, 'float32', 8);
    const eps = 1e-6;
    expect(maxAbsDiff(layerNorm(x, g, b, eps).dataSync(), layerNormComposed(x, g, b, eps).dataSync())).toBeLessThan(1e-5);
    const ours = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, c as tf.Tensor1D, d as tf.Tensor1D, eps), dy)))([x, g, b]);
    const ref = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(layerNormComposed(a, c, d, eps), dy)))([x, g, b]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(ours[i]!.dataSync(), ref[i]!.dataSync()), `gradient ${i}`).toBeLessThan(1e-4);
  });
});

describe('fused kernels (FUSED_KERNELS, registered by @vpeft/backend-wasm)', () => {
  /** `f`'s outputs on `backend` (then back to the one that was active). */
  async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
    const previous = tf.getBackend();
    await tf.setBackend(backend);
    try {
      return tf.tidy(f).map((t) => Float32Array.from(t.dataSync()));
    } finally {
      await tf.setBackend(previous);
    }
  }

  it('the wasm backend registers every kernel core looks for', async () => {
    await on('wasm', () => []);
    for (const name of Object.values(FUSED_KERNELS)) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect(tf.getKernel(FUSED_KERNELS.gelu, 'cpu')).toBeUndefined(); // cpu takes the composed path below
  });

  // ViT-Ti's MLP hidden and token widths; the same seeds on both backends.
  it('gelu and its gradient: the wasm kernels equal the composed ops on cpu', async () => {
    const f = () => {
      const x = tf.randomNormal([2, 197, 768], 0, 2, 'float32', 11);
      const dy = tf.randomNormal([2, 197, 768], 0, 1, 'float32', 12);
      return [gelu(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x)];
    };
    const [wasm, cpu] = [await on('wasm', f), await on('cpu', f)];
    // |x| ≲ 10 here: each side within ε·|x|·(|x| + 3) ≈ 8e-6 of the exact value (backend-wasm's fused tests derive it).
    expect(maxAbsDiff(wasm[0]!, cpu[0]!)).toBeLessThan(2e-5);
    expect(maxAbsDiff(wasm[1]!, cpu[1]!)).toBeLessThan(2e-5);
  });

  it('layerNorm and its three gradients: the wasm kernels equal the composed ops on cpu', async () => {
    const f = () => {
      const x = tf.randomNormal([2, 197, 192], 1, 3, 'float32', 13);
      const g = tf.randomNormal([192], 1, 0.2, 'float32', 14) as tf.Tensor1D;
      const b = tf.randomNormal([192], 0, 0.2, 'float32', 15) as tf.Tensor1D;
      const dy = tf.randomNormal([2, 197, 192], 0, 1, 'float32', 16);
      const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, c as tf.Tensor1D, d as tf.Tensor1D, 1e-6), dy)))([x, g, b]);
      return [layerNorm(x, g, b, 1e-6), ...grads];
    };
    const [wasm, cpu] = [await on('wasm', f), await on('cpu', f)];
    // Sums over 192 columns (values) and 394 rows (dγ, dβ of O(20) magnitude): a few hundred ε of the scale.
    expect(maxAbsDiff(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(wasm[1]!, cpu[1]!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(wasm[2]!, cpu[2]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(wasm[3]!, cpu[3]!)).toBeLessThan(1e-4);
  });
});

describe('bicubicMatrix', () => {
  it('rows sum to one and the identity size is the identity', () => {
    for (const antialias of [true, false]) {
      const m = bicubicMatrix(4, 7, antialias);
      for (let i = 0; i < 7; i++) {
        let s = 0;
        for (let j = 0; j < 4; j++) s += m[i * 4 + j]!;
        expect(s).toBeCloseTo(1, 6);
      }
      const id = bicubicMatrix(5, 5, antialias);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(id[i * 5 + j]).toBeCloseTo(i === j ? 1 : 0, 6);
    }
  });

  it('reproduces the classic Keys kernel (a = -0.75) at a half-pixel offset', () => {
    // Upsampling 2x: output 1 maps to source 0.25 → taps at -1..2 with t = 0.25.
    const a = -0.75;
    const w = (x: number) => {
      const ax = Math.abs(x);
      return ax <= 1 ? ((a + 2) * ax - (a + 3)) * ax * ax + 1 : ax < 2 ? ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a : 0;
    };
    const m = bicubicMatrix(4, 8, false);
    const t = 0.25;
    const expected = [w(t + 1) + w(t), w(1 - t), w(2 - t), 0]; // tap -1 clamps onto index 0
    for (let j = 0; j < 4; j++) expect(m[1 * 4 + j]).toBeCloseTo(expected[j]!, 6);
  });
});
