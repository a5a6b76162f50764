import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastWasmKernelsRegistered } from '../src/kernels/index';
import { fusedMatMulRoute } from '../src/kernels/fused-matmul';
import { clearTransposedOperands, TRANSPOSED_CACHE_MAX_ELEMENTS, transposedOperandsHeld } from '../src/kernels/transposed-operands';
import { batchMatMulRoute, broadcastBatchIndex, NATIVE_THIN_MAX, nativeProduct, planMatMul, STOCK_MAX_MACS_PER_SLICE, SWAP_MIN_RATIO } from '../src/kernels/batch-matmul';
import { compute, data, type Data, expectClose, expectMatchesCpu, t, useWasm, wasmHeapBytes } from './wasm-kernels-helpers';

beforeAll(async () => {
  await useWasm();
});

type Case = [a: number[], b: number[], transposeA: boolean, transposeB: boolean];

/** Forward cases covering every path: 2-D, folded batches, per-slice batches, broadcasting, tiny. */
const FORWARD: Case[] = [
  [[37, 19], [19, 23], false, false],
  [[19, 37], [19, 23], true, false],
  [[37, 19], [23, 19], false, true],
  [[19, 37], [23, 19], true, true],
  [[40, 6], [40, 50], true, false],
  [[2, 41, 1], [2, 1, 300], false, false],
  [[3, 33, 29], [3, 29, 31], false, false],
  [[3, 29, 33], [3, 29, 31], true, false],
  [[3, 33, 29], [3, 31, 29], false, true],
  [[3, 29, 33], [3, 31, 29], true, true],
  [[4, 33, 29], [29, 31], false, false],
  [[2, 2, 29, 33], [1, 31, 29], true, true],
  [[33, 29], [4, 29, 31], false, false],
  [[29, 33], [4, 31, 29], true, true],
  [[2, 1, 25, 26], [1, 3, 26, 27], false, false],
  [[2, 3, 25, 26], [2, 1, 27, 26], false, true],
  [[5, 4, 3], [5, 3, 6], false, false],
  [[5, 3, 4], [5, 6, 3], true, true],
];

function matMulRef(a: Data, b: Data, transposeA: boolean, transposeB: boolean): () => tf.Tensor {
  // The cpu reference broadcasts explicitly, so it does not rely on any kernel's broadcasting.
  return () => {
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const A = tf.broadcastTo(t(a), [...batch, ...a.shape.slice(-2)]);
    const B = tf.broadcastTo(t(b), [...batch, ...b.shape.slice(-2)]);
    return tf.matMul(A, B, transposeA, transposeB);
  };
}

describe('fast wasm BatchMatMul', () => {
  it('is registered on import of the package', () => {
    expect(fastWasmKernelsRegistered()).toBe(true);
  });

  it.each(FORWARD)('matches cpu for %j x %j (transposeA %s, transposeB %s)', async (as, bs, ta, tb) => {
    const a = data(as, as.length * 100 + as[0]);
    const b = data(bs, bs.length * 1000 + bs[0]);
    const actual = await compute('wasm', () => tf.matMul(t(a), t(b), ta, tb));
    const expected = await compute('cpu', matMulRef(a, b, ta, tb));
    expectClose(actual, expected);
  });

  it('returns zeros for an empty shared dimension and empty outputs for empty rows', async () => {
    const y = tf.matMul(tf.zeros([4, 0]), tf.zeros([0, 3]));
    expect(y.shape).toEqual([4, 3]);
    expect(Array.from(await y.data())).toEqual(new Array(12).fill(0));
    const e = tf.matMul(tf.zeros([2, 0, 5]), tf.ones([2, 5, 3]));
    expect(e.shape).toEqual([2, 0, 3]);
    tf.dispose([y, e]);
  });

  it('adds the bias (and its activation) to the zero product of an empty shared dimension', async () => {
    // x·W + b with K = 0 is b in every row; relu then clamps its negative entries.
    const bias = [1.5, -2, 0.25];
    const linear = tf.fused.matMul({ a: tf.zeros([2, 0]), b: tf.zeros([0, 3]), bias: tf.tensor1d(bias) });
    expect(Array.from(await linear.data())).toEqual([...bias, ...bias]);
    const relu = tf.fused.matMul({ a: tf.zeros([2, 0]), b: tf.zeros([0, 3]), bias: tf.tensor1d(bias), activation: 'relu' });
    expect(Array.from(await relu.data())).toEqual([1.5, 0, 0.25, 1.5, 0, 0.25]);
    tf.dispose([linear, relu]);
  });

  it('is not fooled by a weights tensor reshaped in place (XNNPACK caches by tensor id)', async () => {
    const w = data([6, 4], 7);
    const x1 = data([3, 6], 8);
    const x2 = data([5, 4], 9);
    const f = () => {
      const W = t(w);
      const y1 = tf.matMul(t(x1), W);
      const y2 = tf.matMul(t(x2), tf.reshape(W, [4, 6]));
      return [y1, y2];
    };
    await expectMatchesCpu(f);
  });

  it.each([
    [[41, 23], [23, 17], false, false],
    [[23, 41], [23, 17], true, false],
    [[41, 23], [17, 23], false, true],
    [[23, 41], [17, 23], true, true],
    [[3, 21, 22], [3, 22, 24], false, false],
    [[3, 22, 21], [3, 24, 22], true, true],
  ] as Case[])('gives cpu gradients for %j x %j (transposeA %s, transposeB %s)', async (as, bs, ta, tb) => {
    const a = data(as, 11);
    const b = data(bs, 12);
    const outShape = planMatMul(as, bs, ta, tb).outShape;
    const w = data(outShape, 13);
    const f = () => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), t(w))));
      return g([t(a), t(b)]);
    };
    await expectMatchesCpu(f);
  });

  it('computes per-slice products in place for ViT attention shapes (6 slices of 197x64 · (197x64)ᵀ, then (ᵀ) · 197x64)', async () => {
    // One product per slice on windows onto the operands and the output: every slice must land at
    // its own offset. Sums of 64 and 197 products of values in [-1, 1): float32 error ~1e-6 relative.
    const q = data([6, 197, 64], 51);
    const k = data([6, 197, 64], 52);
    await expectMatchesCpu(() => {
      const scores = tf.matMul(t(q), t(k), false, true);
      // p·v, and the gradient form scoresᵀ·k (the left operand read transposed in place).
      return [scores, tf.matMul(scores, t(k)), tf.matMul(scores, t(k), true, false)];
    });
  });

  it('keeps a transposed weight across dY·Wᵀ calls, right for every shape its data is seen with', async () => {
    const w = data([6, 4], 31);
    const dy1 = data([3, 4], 32);
    const dy2 = data([5, 6], 33);
    const f = () => {
      const W = t(w);
      // The same data as [N=6, K=4] twice (the second from the kept copy), then as [N=4, K=6].
      return [tf.matMul(t(dy1), W, false, true), tf.matMul(t(dy1), W, false, true), tf.matMul(t(dy2), tf.reshape(W, [4, 6]), false, true)];
    };
    await expectMatchesCpu(f);
  });

  it('releases a kept transposed copy once its source is freed, and keeps none beyond the budget', async () => {
    const backend = tf.backend() as BackendWasm;
    clearTransposedOperands(backend);
    const dataIds = backend.numDataIds();
    const x = t(data([40, 30], 41));
    const w = t(data([20, 30], 42));
    tf.matMul(x, w, false, true).dispose();
    expect(transposedOperandsHeld(backend)).toEqual({ copies: 1, elements: 600 });
    expect(backend.numDataIds()).toBe(dataIds + 3);
    w.dispose();
    tf.matMul(x, x, false, true).dispose(); // the next call sweeps (and keeps x's copy)
    expect(transposedOperandsHeld(backend)).toEqual({ copies: 1, elements: 1200 });
    x.dispose();
    clearTransposedOperands(backend);
    expect(backend.numDataIds()).toBe(dataIds);
    // One operand larger than the whole budget is transposed for its call only.
    const side = Math.ceil(Math.sqrt(TRANSPOSED_CACHE_MAX_ELEMENTS + 1));
    const big = tf.ones([side, side]);
    const y = tf.matMul(tf.ones([1, side]), big, false, true);
    expect(transposedOperandsHeld(backend).copies).toBe(0);
    expect((await y.data())[0]).toBe(side);
    tf.dispose([big, y]);
  });

  it('leaves inputs alive and leaks neither tensors nor wasm memory', async () => {
    const backend = tf.backend() as BackendWasm;
    const a = t(data([6, 40, 30], 21));
    const b = t(data([6, 50, 30], 22));
    const w = t(data([30, 20], 23));
    const aBefore = Float32Array.from(a.dataSync());
    const step = () =>
      tf.tidy(() => {
        tf.dispose([
        tf.matMul(a, b, false, true), // per-slice path
        tf.matMul(a, w), // folded into M
        tf.matMul(w, b, true, true), // folded into N
        tf.matMul(tf.reshape(a, [240, 30]), tf.reshape(a, [240, 30]), true, false), // transposed 2-D
        tf.fused.matMul({ a, b, transposeB: true, bias: tf.ones([50]), activation: 'relu' }),
        ]);
      });
    for (let i = 0; i < 3; i++) step();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 30; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    expect(wasmHeapBytes()).toBe(heap);
    expect(Array.from(a.dataSync())).toEqual(Array.from(aBefore));
    tf.dispose([a, b, w]);
  });
});

describe('batch-matmul planning', () => {
  it('maps output batch indices onto broadcast operands', () => {
    // Output batch [2, 3]: an operand of batch [2, 1] repeats each of its 2 slices 3 times.
    const index = broadcastBatchIndex([2, 3], [2, 1]);
    expect([0, 1, 2, 3, 4, 5].map(index)).toEqual([0, 0, 0, 1, 1, 1]);
    const inner = broadcastBatchIndex([2, 3], [3]);
    expect([0, 1, 2, 3, 4, 5].map(inner)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('rejects mismatched inner dimensions clearly', () => {
    expect(() => planMatMul([2, 3], [4, 5], false, false)).toThrow(/inner dimensions 3 and 4/);
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow();
  });

  it('keeps tiny equal-batch products on the stock loop only below the threshold', () => {
    expect(STOCK_MAX_MACS_PER_SLICE).toBeGreaterThan(0);
    expect(planMatMul([5, 4, 3], [5, 3, 6], false, false).m * 3 * 6).toBeLessThan(STOCK_MAX_MACS_PER_SLICE);
  });

  it('sends 2-D products with neither bias nor activation to the native kernel (one thread), LoRA\'s thin ones included', () => {
    const route = (a: number[], b: number[], ta: boolean, tb: boolean) => batchMatMulRoute(planMatMul(a, b, ta, tb), ta, tb);
    // LoRA r=8 q,v on ViT-Ti: x·A, down·B, dY·Bᵀ, downᵀ·dY, dDown·Aᵀ, xᵀ·dDown.
    const lora: Case[] = [
      [[1576, 192], [192, 16], false, false],
      [[1576, 16], [16, 576], false, false],
      [[1576, 576], [16, 576], false, true],
      [[1576, 16], [1576, 576], true, false],
      [[1576, 16], [192, 16], false, true],
      [[1576, 192], [1576, 16], true, false],
    ];
    for (const [a, b, ta, tb] of lora) {
      expect(Math.min(...a, ...b)).toBeLessThanOrEqual(NATIVE_THIN_MAX);
      expect(nativeProduct(planMatMul(a, b, ta, tb))).toBe(true);
      expect(route(a, b, ta, tb)).toBe('native');
    }
    // A frozen weight's dY·Wᵀ too (the tests run one thread), but no batched product.
    expect(route([1576, 576], [192, 576], false, true)).toBe('native');
    expect(route([2, 40, 6], [2, 40, 50], true, false)).toBe('native-slices');
    expect(nativeProduct(planMatMul([2, 40, 6], [40, 50], true, false))).toBe(false);
  });

  it('computes a wide fused Aᵀ·B without bias as (Bᵀ·A)ᵀ, a clamped product with a bias as one XNNPACK product, and a linear one natively', () => {
    const fused = (a: number[], b: number[], ta: boolean, tb: boolean, bias: number[] | undefined, act: string) =>
      fusedMatMulRoute(planMatMul(a, b, ta, tb), ta, tb, bias, act);
    expect(50).toBeGreaterThanOrEqual(SWAP_MIN_RATIO * 6);
    expect(fused([40, 6], [40, 50], true, false, undefined, 'relu')).toEqual({ route: 'swapped', fused: true });
    // Not when B is the narrower side, nor for transposed B (folded into M), nor with a bias.
    expect(fused([40, 50], [40, 6], true, false, undefined, 'relu')).toEqual({ route: 'shared-right', fused: true });
    expect(fused([40, 6], [50, 40], true, true, undefined, 'relu')).toEqual({ route: 'shared-right', fused: true });
    expect(fused([1576, 192], [192, 576], false, false, [576], 'relu')).toEqual({ route: 'shared-right', fused: true });
    // A linear one (ViT's x·W + b) with its bias added by the native kernel.
    expect(fused([1576, 192], [192, 576], false, false, [576], 'linear')).toEqual({ route: 'native', fused: true });
    // A batched product with a bias goes to XNNPACK per slice (the bias is added inside it).
    expect(fused([3, 33, 29], [3, 31, 29], false, true, [31], 'linear')).toEqual({ route: 'per-slice', fused: true });
  });
});

describe('fast wasm _FusedMatMul', () => {
  const cases: Array<{ name: string; a: number[]; b: number[]; ta: boolean; tb: boolean; bias?: number[]; act: tf.fused.Activation }> = [
    { name: '2-D, bias [N], relu', a: [37, 19], b: [19, 23], ta: false, tb: false, bias: [23], act: 'relu' },
    { name: 'transposed, bias [N], relu6', a: [19, 37], b: [23, 19], ta: true, tb: true, bias: [23], act: 'relu6' },
    { name: 'batched, bias [N], linear', a: [3, 33, 29], b: [3, 31, 29], ta: false, tb: true, bias: [31], act: 'linear' },
    { name: 'shared left operand, bias [N]', a: [33, 29], b: [4, 29, 31], ta: false, tb: false, bias: [31], act: 'linear' },
    { name: 'bias [M, N] broadcast', a: [3, 33, 29], b: [29, 31], ta: false, tb: false, bias: [33, 31], act: 'linear' },
    { name: 'bias [1], elu', a: [33, 29], b: [29, 31], ta: false, tb: false, bias: [1], act: 'elu' },
    { name: '2-D, bias [N], linear (native, tails of 4 rows and 4/8 columns)', a: [50, 16], b: [16, 70], ta: false, tb: false, bias: [70], act: 'linear' },
    { name: 'transposed, bias [N], linear (native)', a: [19, 37], b: [23, 19], ta: true, tb: true, bias: [23], act: 'linear' },
    { name: 'wide Aᵀ·B, no bias, relu (swapped)', a: [40, 6], b: [40, 50], ta: true, tb: false, act: 'relu' },
    { name: 'Aᵀ·B, no bias, relu6 (one XNNPACK product)', a: [40, 50], b: [40, 6], ta: true, tb: false, act: 'relu6' },
    { name: 'no bias, sigmoid', a: [2, 29, 33], b: [2, 29, 31], ta: true, tb: false, act: 'sigmoid' },
    { name: 'leakyrelu', a: [33, 29], b: [29, 31], ta: false, tb: false, bias: [31], act: 'leakyrelu' },
    { name: 'prelu', a: [33, 29], b: [29, 31], ta: false, tb: false, bias: [31], act: 'prelu' },
  ];
  it.each(cases)('matches cpu: $name', async ({ a, b, ta, tb, bias, act }) => {
    const A = data(a, 31);
    const B = data(b, 32);
    const bias_ = bias ? data(bias, 33) : undefined;
    const alpha = data([b[b.length - (tb ? 2 : 1)]], 34);
    const f = () =>
      tf.fused.matMul({
        a: t(A),
        b: t(B),
        transposeA: ta,
        transposeB: tb,
        bias: bias_ ? t(bias_) : undefined,
        activation: act,
        preluActivationWeights: act === 'prelu' ? t(alpha) : undefined,
        leakyreluAlpha: 0.1,
      });
    await expectMatchesCpu(f);
  });

  it('gives cpu gradients through a fused product with bias', async () => {
    const A = data([3, 21, 22], 41);
    const B = data([3, 24, 22], 42);
    const bias = data([24], 43);
    const w = data([3, 21, 24], 44);
    const f = () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.matMul({ a, b, transposeB: true, bias: c }), t(w))),
      )([t(A), t(B), t(bias)]);
    await expectMatchesCpu(f);
  });
});
