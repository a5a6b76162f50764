import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedWasmBytes, withSharedMemoryImport } from '../src/fused/fused-module';
import { FUSED_SOURCE_SHA256 } from '../src/fused/fused-wasm.generated';
import { FUSED } from '../src/kernels/fused-names';
import { compute, data, expectClose, randomValues, t, useWasm, wasmHeapBytes } from './wasm-kernels-helpers';

beforeAll(async () => {
  await useWasm();
});

/** float32's unit roundoff. */
const EPS = 2 ** -24;

/** erf in double precision (independent of the code under test): Maclaurin series below 3, continued fraction above. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 120; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (a + f);
  const v = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  return x < 0 ? -v : v;
}
const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const pdf = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);

/** The largest |actual − exact| / bound over every element, and where (≤ 1: every element within its bound). */
function worstRatio(actual: ArrayLike<number>, exact: (i: number) => number, bound: (i: number) => number): { ratio: number; at: number } {
  let worst = { ratio: 0, at: -1 };
  for (let i = 0; i < actual.length; i++) {
    const ratio = Math.abs(actual[i]! - exact(i)) / bound(i);
    if (!(ratio <= worst.ratio)) worst = { ratio, at: i };
  }
  return worst;
}

/** A fused kernel run directly on wasm: its outputs' values. */
function run(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): Float32Array[] {
  const out = tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(out) ? out : [out];
  const values = outs.map((o) => Float32Array.from(o.dataSync()));
  tf.dispose(outs);
  return values;
}

/** Every x in [-8, 8] on a fine grid, plus ±0 and the branch point of the erf approximation (0.921875·√2). */
function geluInputs(): Float32Array {
  const n = 160_003; // not a multiple of 4: the kernel's tail runs too
  const xs = new Float32Array(n);
  for (let i = 0; i < n - 3; i++) xs[i] = -8 + (16 * i) / (n - 4);
  xs.set([0, -0, 0.921875 * Math.SQRT2], n - 3);
  return xs;
}

describe('fused GELU (native/fused.c)', () => {
  // Each float32 step of (x·0.5)·(1 + erf(x·2^-½)) errs by ≤ ε relative; erf's argument error
  // (≤ 2ε·|x|/√2 with the constant's rounding) moves erf by ≤ 2/√π times that; erf itself by ≤ 2ε
  // (absolute) in the fused polynomial, ≤ ε in tfjs's. Summed: |err| ≤ ε·|x|·(|x| + 3) bounds both.
  const bound = (x: number) => EPS * Math.abs(x) * (Math.abs(x) + 3);

  it('forward is within the float32 error bound of the exact GELU, like the composed ops', () => {
    const xs = geluInputs();
    const x = tf.tensor(xs);
    const [fused] = run(FUSED.gelu, { x });
    const composed = tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))).dataSync();
    x.dispose();
    const exact = (i: number) => 0.5 * xs[i]! * (1 + erf(xs[i]! / Math.SQRT2));
    const b = (i: number) => bound(xs[i]!) || Number.MIN_VALUE; // x = 0: exact 0 both sides
    const fusedWorst = worstRatio(fused!, exact, b);
    expect(fusedWorst.ratio, `x = ${xs[fusedWorst.at]}`).toBeLessThanOrEqual(1);
    const composedWorst = worstRatio(composed, exact, b);
    expect(composedWorst.ratio, `composed, x = ${xs[composedWorst.at]}`).toBeLessThanOrEqual(1);
  });

  // dy·(Φ + x·φ): Φ errs as above (≤ ε·(|x| + 3)); φ = exp(−x²/2)/√(2π) by ≤ ε·(x²/2 + 3) relative
  // (x²'s rounding scaled by the exponent, exp's own ≤ 2ε, the constant); x·φ ≤ 0.25 so
  // |err| ≤ ε·|dy|·(|x| + 3 + x²/8 + 1) + the final products' ε·|dx|.
  const gradBound = (x: number, dy: number, dx: number) => EPS * (Math.abs(dy) * (Math.abs(x) + 4 + (x * x) / 8) + 2 * Math.abs(dx));

  it('gradient is within the float32 error bound of the exact derivative, like the composed ops', () => {
    const xs = geluInputs();
    const dys = randomValues(xs.length, 7);
    const x = tf.tensor(xs);
    const dy = tf.tensor(dys);
    const [fused] = run(FUSED.geluGrad, { dy, x });
    const composed = tf
      .tidy(() => {
        const c = tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);
        const p = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy, tf.add(c, tf.mul(x, p)));
      })
      .dataSync();
    tf.dispose([x, dy]);
    const exact = (i: number) => dys[i]! * (cdf(xs[i]!) + xs[i]! * pdf(xs[i]!));
    const b = (i: number) => gradBound(xs[i]!, dys[i]!, exact(i));
    const fusedWorst = worstRatio(fused!, exact, b);
    expect(fusedWorst.ratio, `x = ${xs[fusedWorst.at]}`).toBeLessThanOrEqual(1);
    const composedWorst = worstRatio(composed, exact, b);
    expect(composedWorst.ratio, `composed, x = ${xs[composedWorst.at]}`).toBeLessThanOrEqual(1);
  });

  it.each([[[0]], [[1]], [[3]], [[2, 5]], [[8, 197, 192]]])('keeps shape %j and matches the composed ops', async (shape) => {
    const x = data(shape, 3);
    const fused = await compute('wasm', () => tf.engine().runKernel(FUSED.gelu, { x: t(x) }) as tf.Tensor);
    const composed = await compute('wasm', () => tf.mul(tf.mul(t(x), 0.5), tf.add(1, tf.erf(tf.mul(t(x), Math.SQRT1_2)))));
    // |x| < 1 here: twice the bound above at |x| = 1.
    expectClose(fused, composed, 8 * EPS);
  });

  it('rejects mismatched shapes and non-float32 input with one clear line', () => {
    expect(() => tf.engine().runKernel(FUSED.geluGrad, { dy: tf.zeros([2, 3]), x: tf.zeros([3, 2]) })).toThrow(/VpeftGeluGrad: shapes \[2,3\] and \[3,2\] differ/);
    expect(() => tf.engine().runKernel(FUSED.gelu, { x: tf.zeros([2], 'int32') })).toThrow(/only float32/);
  });
});

/** LayerNorm over the last axis in double precision: y, x̂, rstd. */
function layerNormExact(x: Float32Array, gamma: Float32Array, beta: Float32Array, cols: number, eps: number) {
  const y = new Float64Array(x.length);
  const xhat = new Float64Array(x.length);
  const rstd = new Float64Array(x.length / cols);
  for (let r = 0; r < rstd.length; r++) {
    const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
    const mean = row.reduce((a, b) => a + b, 0) / cols;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / cols;
    rstd[r] = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < cols; c++) {
      xhat[r * cols + c] = (row[c]! - mean) * rstd[r]!;
      y[r * cols + c] = xhat[r * cols + c]! * gamma[c]! + beta[c]!;
    }
  }
  return { y, xhat, rstd };
}

describe('fused LayerNorm (native/fused.c)', () => {
  const eps = 1e-6;
  it.each([[[3, 192]], [[2, 5, 7]], [[4, 1]], [[1, 3]]])('forward gives y, x̂ and rstd within float32 rounding of the exact ones on %j', (shape) => {
    const cols = shape[shape.length - 1]!;
    const x = data(shape, 11);
    const xs = Float32Array.from(x.values, (v, i) => 3 * v + (i % cols) * 0.01 + 0.5); // an offset mean, unequal columns
    const gamma = randomValues(cols, 12);
    const beta = randomValues(cols, 13);
    const [y, xhat, rstd] = run(FUSED.layerNorm, { x: tf.tensor(xs, shape), gamma: tf.tensor(gamma), beta: tf.tensor(beta) }, { epsilon: eps });
    const exact = layerNormExact(xs, gamma, beta, cols, eps);
    // Sums of `cols` terms err by ≤ cols·ε relative to the sum of magnitudes (|x − μ| ≤ 4, |x̂| ≤ √cols):
    // x̂ by ≤ (cols + 4)·ε·|x̂|max, y by that plus two products.
    const xhatBound = (cols + 4) * EPS * Math.sqrt(cols);
    expect(worstRatio(xhat!, (i) => exact.xhat[i]!, () => xhatBound).ratio).toBeLessThanOrEqual(1);
    expect(worstRatio(y!, (i) => exact.y[i]!, (i) => xhatBound + 4 * EPS * (Math.abs(exact.y[i]!) + 1)).ratio).toBeLessThanOrEqual(1);
    for (let r = 0; r < exact.rstd.length; r++) expect(Math.abs(rstd![r]! - exact.rstd[r]!)).toBeLessThanOrEqual((cols + 4) * EPS * exact.rstd[r]!);
  });

  it.each([[[3, 192]], [[2, 5, 7]]])('gradients equal tfjs autodiff of the composed LayerNorm on %j (cpu)', async (shape) => {
    const cols = shape[shape.length - 1]!;
    const x = data(shape, 21);
    const w = data(shape, 22);
    const gamma = data([cols], 23);
    const beta = data([cols], 24);
    const fused = await compute('wasm', () => {
      const [, xhat, rstd] = tf.engine().runKernel(FUSED.layerNorm, { x: t(x), gamma: t(gamma), beta: t(beta) }, { epsilon: eps }) as tf.Tensor[];
      return tf.engine().runKernel(FUSED.layerNormGrad, { dy: t(w), xhat: xhat!, rstd: rstd!, gamma: t(gamma) }) as tf.Tensor[];
    });
    const reference = await compute('cpu', () =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, a.rank - 1, true);
        return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, eps))), g), b), t(w)));
      })([t(x), t(gamma), t(beta)]),
    );
    // Each output is a sum over at most `rows·cols` products of O(1) terms: within rows·cols·ε of the scale.
    expectClose(fused, reference, tf.util.sizeFromShape(shape) * EPS * 4);
  });
});

describe('fused Softmax gradient (native/fused.c, through vpeft\'s lean Softmax gradient)', () => {
  it.each([[[1, 3, 197, 197]], [[2, 3, 5, 7]], [[4, 1]], [[3, 6]]])('tf.grad of softmax on wasm equals tfjs\'s formula on cpu for %j', async (shape) => {
    const x = data(shape, 31);
    const w = data(shape, 32);
    const grad = () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(tf.mul(a, 4)), t(w))))(t(x));
    const cols = shape[shape.length - 1]!;
    // Σ dy·y over a row (Σ y = 1, |dy| ≤ 4) errs by ≤ cols·ε·4; dx = (dy − s)·y carries it, times y ≤ 1.
    expectClose(await compute('wasm', grad), await compute('cpu', grad), (cols + 4) * EPS * 8);
  });

  it('a softmax over another axis keeps tfjs\'s formula', async () => {
    const x = data([4, 6], 51);
    const f = () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.transpose(tf.softmax(tf.transpose(a))), t(x))))(t(x));
    expectClose(await compute('wasm', f), await compute('cpu', f), 32 * EPS);
  });
});

/**
 * Attention over qkv `[B, N, 3·d]` in double precision, in loops (independent of tfjs and of the code
 * under test): the context `[B, N, d]`, the probabilities `[B·heads, N, N]` and, for the context's
 * gradient `dc`, dqkv from the textbook formulas (dP = dC·vᵀ, dS = (dP − Σ dP·P)·P/√hd, dq = dS·k,
 * dk = dSᵀ·q, dv = Pᵀ·dC).
 */
function attentionExact(qkv: Float32Array, dc: Float32Array, b: number, n: number, heads: number) {
  const d = qkv.length / (b * n * 3);
  const hd = d / heads;
  const scale = 1 / Math.sqrt(hd);
  const at = (img: number, row: number, part: number, h: number, j: number) => ((img * n + row) * 3 + part) * d + h * hd + j;
  const context = new Float64Array(b * n * d);
  const probs = new Float64Array(b * heads * n * n);
  const dqkv = new Float64Array(qkv.length);
  for (let img = 0; img < b; img++) {
    for (let h = 0; h < heads; h++) {
      const p = (i: number, j: number) => (img * heads + h) * n * n + i * n + j;
      const dS = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        const scores = Array.from({ length: n }, (_, j) => {
          let sum = 0;
          for (let c = 0; c < hd; c++) sum += qkv[at(img, i, 0, h, c)]! * qkv[at(img, j, 1, h, c)]!;
          return sum * scale;
        });
        const max = Math.max(...scores);
        const exps = scores.map((x) => Math.exp(x - max));
        const total = exps.reduce((x, y) => x + y, 0);
        for (let j = 0; j < n; j++) probs[p(i, j)] = exps[j]! / total;
        const dP = Array.from({ length: n }, (_, j) => {
          let sum = 0;
          for (let c = 0; c < hd; c++) sum += dc[(img * n + i) * d + h * hd + c]! * qkv[at(img, j, 2, h, c)]!;
          return sum;
        });
        const dot = dP.reduce((acc, x, j) => acc + x * probs[p(i, j)]!, 0);
        for (let j = 0; j < n; j++) dS[i * n + j] = (dP[j]! - dot) * probs[p(i, j)]! * scale;
        for (let c = 0; c < hd; c++) {
          let sum = 0;
          for (let j = 0; j < n; j++) sum += probs[p(i, j)]! * qkv[at(img, j, 2, h, c)]!;
          context[(img * n + i) * d + h * hd + c] = sum;
        }
      }
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < hd; c++) {
          let dq = 0;
          let dk = 0;
          let dv = 0;
          for (let j = 0; j < n; j++) {
            dq += dS[i * n + j]! * qkv[at(img, j, 1, h, c)]!;
            dk += dS[j * n + i]! * qkv[at(img, j, 0, h, c)]!;
            dv += probs[p(j, i)]! * dc[(img * n + j) * d + h * hd + c]!;
          }
          dqkv[at(img, i, 0, h, c)] = dq;
          dqkv[at(img, i, 1, h, c)] = dk;
          dqkv[at(img, i, 2, h, c)] = dv;
        }
      }
    }
  }
  return { context, probs, dqkv };
}

describe('fused attention on the qkv layout (native/fused.c)', () => {
  // [B, N, heads, hd]: SIMD tails in both N and hd, one head, B = 1.
  it.each([[[1, 5, 1, 3]], [[2, 6, 2, 5]], [[2, 9, 3, 8]]])('context, probabilities and dqkv are within float32 rounding of the exact ones for %j', ([b, n, heads, hd]) => {
    const d = heads! * hd!;
    const qkv = randomValues(b! * n! * 3 * d, 61);
    const dc = randomValues(b! * n! * d, 62);
    const exact = attentionExact(qkv, dc, b!, n!, heads!);
    const qkvTensor = tf.tensor(qkv, [b!, n!, 3 * d]);
    const [context, probs] = run(FUSED.qkvAttention, { qkv: qkvTensor }, { heads: heads! });
    const [dqkv] = run(FUSED.qkvAttentionGrad, { dcontext: tf.tensor(dc, [b!, n!, d]), qkv: qkvTensor, probs: tf.tensor(probs!, [b! * heads!, n!, n!]) }, { heads: heads! });
    // Inputs in [-1, 1]: every output is a few float32 sums of at most N + hd products of O(1) terms
    // deep (core's qkv-attention test follows the error step by step): within 16·(N + hd)·ε absolutely.
    const bound = 16 * (n! + hd!) * EPS;
    for (const [actual, expected] of [[context!, exact.context], [probs!, exact.probs], [dqkv!, exact.dqkv]] as const) {
      expect(actual.length).toBe(expected.length);
      expect(worstRatio(actual, (i) => expected[i]!, () => bound).ratio).toBeLessThanOrEqual(1);
    }
  });

  it('handles empty inputs: no tokens, or a zero head width (uniform probabilities)', () => {
    const [context, probs] = run(FUSED.qkvAttention, { qkv: tf.zeros([2, 0, 6]) }, { heads: 2 });
    expect([context!.length, probs!.length]).toEqual([0, 0]);
    const [none, uniform] = run(FUSED.qkvAttention, { qkv: tf.zeros([1, 3, 0]) }, { heads: 2 });
    expect(none!.length).toBe(0);
    expect(Array.from(uniform!)).toEqual(new Array(18).fill(Math.fround(1 / 3)));
    const [dqkv] = run(FUSED.qkvAttentionGrad, { dcontext: tf.zeros([1, 3, 0]), qkv: tf.zeros([1, 3, 0]), probs: tf.tensor(uniform!, [2, 3, 3]) }, { heads: 2 });
    expect(dqkv!.length).toBe(0);
  });

  it('rejects a qkv that is not [B, N, 3·heads·hd], bad heads and mismatched gradient inputs with one clear line', () => {
    expect(() => run(FUSED.qkvAttention, { qkv: tf.zeros([2, 3, 10]) }, { heads: 2 })).toThrow(/VpeftQkvAttention: qkv must be \[B, N, 3·heads·headDim\] with a positive integer attr heads, got \[2,3,10\] and heads 2/);
    expect(() => run(FUSED.qkvAttention, { qkv: tf.zeros([2, 3, 12]) }, { heads: 0 })).toThrow(/heads 0/);
    expect(() => run(FUSED.qkvAttention, { qkv: tf.zeros([6, 12]) }, { heads: 2 })).toThrow(/got \[6,12\]/);
    expect(() => run(FUSED.qkvAttention, { qkv: tf.zeros([1, 2, 6], 'int32') }, { heads: 1 })).toThrow(/only float32/);
    const qkv = tf.zeros([1, 4, 12]);
    expect(() => run(FUSED.qkvAttentionGrad, { dcontext: tf.zeros([1, 4, 3]), qkv, probs: tf.zeros([2, 4, 4]) }, { heads: 2 })).toThrow(/VpeftQkvAttentionGrad: dcontext must be \[1,4,4\], got \[1,4,3\]/);
    expect(() => run(FUSED.qkvAttentionGrad, { dcontext: tf.zeros([1, 4, 4]), qkv, probs: tf.zeros([1, 4, 4]) }, { heads: 2 })).toThrow(/probs must be \[2,4,4\], got \[1,4,4\]/);
  });
});

/** The WebAssembly JS API as these tests use it (this package's TS lib declares none). */
interface WasmJsApi {
  Module: { new (bytes: Uint8Array): object; imports(m: object): Array<{ module: string; name: string; kind: string }>; exports(m: object): Array<{ name: string }> };
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly;

describe('the fused wasm module', () => {
  it('was built from the committed native/fused.c (rebuild: node packages/backend-wasm/scripts/build-fused.mjs)', () => {
    const source = readFileSync(new URL('../native/fused.c', import.meta.url), 'utf8').replace(/\r\n/g, '\n');
    expect(createHash('sha256').update(source).digest('hex')).toBe(FUSED_SOURCE_SHA256);
  });

  it('imports only a memory and exports the ten kernels', () => {
    const module = new WebAssembly.Module(fusedWasmBytes());
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(
      ['attention_context', 'attention_grad', 'attention_scores', 'gelu', 'gelu_grad', 'layer_norm', 'layer_norm_grad', 'matmul', 'matmul_bias', 'softmax_grad'].sort(),
    );
  });

  it('runs on a shared memory (tfjs\'s threaded build) once its import is marked shared', () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(withSharedMemoryImport(fusedWasmBytes())), { env: { memory } }).exports as unknown as {
      gelu(x: number, y: number, n: number): void;
    };
    const heap = new Float32Array(memory.buffer);
    heap.set([-1, 0, 1, 2, 3], 0);
    exports.gelu(0, 64, 5);
    const expected = [-1, 0, 1, 2, 3].map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    Array.from(heap.subarray(16, 21)).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(4 * EPS * 3));
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(fusedWasmBytes()), { env: { memory } })).toThrow();
  });

  it('still works on tensors allocated after the wasm heap grew', () => {
    const before = wasmHeapBytes();
    run(FUSED.gelu, { x: tf.ones([4]) });
    const big = tf.zeros([Math.ceil(before / 4) + 1024]); // more than the whole heap: it must grow
    expect(wasmHeapBytes()).toBeGreaterThan(before);
    const [y] = run(FUSED.gelu, { x: tf.fill([6], 2) });
    big.dispose();
    Array.from(y!).forEach((v) => expect(Math.abs(v - 2 * cdf(2))).toBeLessThanOrEqual(10 * EPS * 2));
  });
});
