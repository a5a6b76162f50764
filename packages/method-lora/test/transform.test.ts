import * as tf from '@tensorflow/tfjs-core';
import { initBackend, mulberry32, type SiteInfo, type TransformContext } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { convLoraTerm, linearLoraTerm, linearLoraTransform, type LoraSiteState } from '../src/index';

// Plain-JS reference math (row-major arrays), independent of tfjs.
type Matrix = { rows: number; cols: number; data: Float64Array };

function randomMatrix(rows: number, cols: number, random: () => number): Matrix {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => 2 * random() - 1) };
}
function at(m: Matrix, i: number, j: number): number {
  return m.data[i * m.cols + j]!;
}
function matMul(a: Matrix, b: Matrix): Matrix {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < b.cols; j++) {
    let sum = 0;
    for (let k = 0; k < a.cols; k++) sum += at(a, i, k) * at(b, k, j);
    out[i * b.cols + j] = sum;
  }
  return { rows: a.rows, cols: b.cols, data: out };
}
function transpose(a: Matrix): Matrix {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = at(a, i, j);
  return { rows: a.cols, cols: a.rows, data: out };
}
function columns(a: Matrix, start: number, end: number): Matrix {
  const out = new Float64Array(a.rows * (end - start));
  for (let i = 0; i < a.rows; i++) for (let j = start; j < end; j++) out[i * (end - start) + j - start] = at(a, i, j);
  return { rows: a.rows, cols: end - start, data: out };
}
function scaled(a: Matrix, s: number): Matrix {
  return { ...a, data: a.data.map((v) => v * s) };
}
function toTensor(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols]);
}
/** The float32 values a tensor made from `m` holds, back as a Matrix (so JS math sees what tfjs sees). */
function rounded(m: Matrix): Matrix {
  return { ...m, data: Float64Array.from(Float32Array.from(m.data)) };
}

beforeAll(async () => {
  await initBackend();
});

describe('linear LoRA transform on a fused site with slices', () => {
  // in 5, out 6 = three fused slices of 2; LoRA of rank 3 on slices a and c, scale alpha/r = 0.75.
  const site: SiteInfo = { name: 'toy.qkv', kind: 'linear', inFeatures: 5, outFeatures: 6, weight: 'toy.qkv.weight', slices: { a: [0, 2], b: [2, 4], c: [4, 6] } };
  const scale = 0.75;
  const random = mulberry32(42);
  const x = rounded(randomMatrix(4, 5, random));
  const w = rounded(randomMatrix(5, 6, random));
  const factors = (['a', 'c'] as const).map((slice) => ({
    slice,
    columns: site.slices![slice]!,
    down: rounded(randomMatrix(5, 3, random)),
    up: rounded(randomMatrix(3, 2, random)),
  }));
  const g = rounded(randomMatrix(4, 6, random)); // dLoss/dY for loss = sum(G ⊙ Y)

  function setup() {
    const xVar = tf.variable(toTensor(x));
    const wTensor = toTensor(w);
    const vars = factors.map((f) => ({ down: tf.variable(toTensor(f.down)), up: tf.variable(toTensor(f.up)) }));
    const state: LoraSiteState = {
      site,
      scale,
      dropout: 0,
      factors: factors.map((f, i) => ({ slice: f.slice, columns: f.columns, down: vars[i]!.down, up: vars[i]!.up })),
    };
    const ctx: TransformContext = { site, training: false };
    const run = () => linearLoraTransform(state)(xVar as tf.Tensor2D, (input) => tf.matMul(input, wTensor), ctx);
    return { xVar, wTensor, vars, run, dispose: () => tf.dispose([xVar, wTensor, ...vars.flatMap((v) => [v.down, v.up])]) };
  }

  it('computes X·W + scale·X·A_s·B_s on each adapted slice and leaves the other columns bit-identical', () => {
    const { run, wTensor, dispose } = setup();
    const y = run();
    const base = matMul(x, w);
    const expected = Float64Array.from(base.data);
    for (const f of factors) {
      const delta = scaled(matMul(matMul(x, f.down), f.up), scale);
      for (let i = 0; i < x.rows; i++) for (let j = 0; j < delta.cols; j++) expected[i * 6 + f.columns[0] + j] += at(delta, i, j);
    }
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(1e-5);
    const plain = tf.matMul(toTensor(x), wTensor);
    const yk = tf.slice(y, [0, 2], [-1, 2]);
    const plainK = tf.slice(plain, [0, 2], [-1, 2]);
    expect(Array.from(yk.dataSync())).toEqual(Array.from(plainK.dataSync()));
    tf.dispose([y, plain, yk, plainK]);
    dispose();
  });

  it('has the analytic gradients dA = scale·Xᵀ·dY_s·Bᵀ, dB = scale·(X·A)ᵀ·dY_s, dX = dY·Wᵀ + Σ scale·dY_s·Bᵀ·Aᵀ', () => {
    const { xVar, vars, run, dispose } = setup();
    const gTensor = toTensor(g);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(run(), gTensor)) as tf.Scalar, [xVar, ...vars.flatMap((v) => [v.down, v.up])]);
    let expectedDx = matMul(g, transpose(w));
    factors.forEach((f, i) => {
      const gs = columns(g, f.columns[0], f.columns[1]);
      const dA = scaled(matMul(matMul(transpose(x), gs), transpose(f.up)), scale);
      const dB = scaled(matMul(transpose(matMul(x, f.down)), gs), scale);
      expect(maxAbsDiff(grads[vars[i]!.down.name]!.dataSync(), dA.data), `dA_${f.slice}`).toBeLessThan(1e-5);
      expect(maxAbsDiff(grads[vars[i]!.up.name]!.dataSync(), dB.data), `dB_${f.slice}`).toBeLessThan(1e-5);
      const dxs = scaled(matMul(matMul(gs, transpose(f.up)), transpose(f.down)), scale);
      expectedDx = { ...expectedDx, data: expectedDx.data.map((v, k) => v + dxs.data[k]!) };
    });
    expect(maxAbsDiff(grads[xVar.name]!.dataSync(), expectedDx.data), 'dX').toBeLessThan(1e-5);
    tf.dispose([value, gTensor, ...Object.values(grads)]);
    dispose();
  });
});

describe('conv LoRA term (kxk conv A then 1x1 conv B)', () => {
  /** NHWC conv with HWIO kernel in plain JS, TensorFlow's "same"/"valid" padding. */
  function convReference(x: Float32Array, xs: number[], k: Float32Array, ks: number[], stride: number, padding: 'same' | 'valid') {
    const [n, h, w, c] = xs as [number, number, number, number];
    const [kh, kw, , o] = ks as [number, number, number, number];
    const outH = padding === 'same' ? Math.ceil(h / stride) : Math.floor((h - kh) / stride) + 1;
    const outW = padding === 'same' ? Math.ceil(w / stride) : Math.floor((w - kw) / stride) + 1;
    const padTop = padding === 'same' ? Math.floor(Math.max((outH - 1) * stride + kh - h, 0) / 2) : 0;
    const padLeft = padding === 'same' ? Math.floor(Math.max((outW - 1) * stride + kw - w, 0) / 2) : 0;
    const out = new Float64Array(n * outH * outW * o);
    for (let b = 0; b < n; b++) for (let i = 0; i < outH; i++) for (let j = 0; j < outW; j++) for (let oc = 0; oc < o; oc++) {
      let sum = 0;
      for (let di = 0; di < kh; di++) for (let dj = 0; dj < kw; dj++) {
        const yi = i * stride + di - padTop;
        const xj = j * stride + dj - padLeft;
        if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
        for (let ic = 0; ic < c; ic++) sum += x[((b * h + yi) * w + xj) * c + ic]! * k[((di * kw + dj) * c + ic) * o + oc]!;
      }
      out[((b * outH + i) * outW + j) * o + oc] = sum;
    }
    return { data: out, shape: [n, outH, outW, o] };
  }

  for (const [stride, padding] of [[2, 'same'], [1, 'valid']] as const) {
    it(`matches a plain-JS conv pair and finite differences (stride ${stride}, ${padding})`, () => {
      const site: SiteInfo = { name: 'toy.conv', kind: 'conv', inFeatures: 3, outFeatures: 4, kernelSize: [3, 3], strides: [stride, stride], padding, groups: 1, weight: 'toy.conv.weight' };
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const down = tf.variable(tf.randomNormal([3, 3, 3, 2], 0, 0.5, 'float32', 2));
      const up = tf.variable(tf.randomNormal([1, 1, 2, 4], 0, 0.5, 'float32', 3));
      const state: LoraSiteState = { site, scale: 1.5, dropout: 0, factors: [{ down, up, columns: [0, 4] }] };
      const term = convLoraTerm(x, state);
      const hidden = convReference(x.dataSync() as Float32Array, x.shape, down.dataSync() as Float32Array, down.shape, stride, padding);
      const expected = convReference(Float32Array.from(hidden.data), hidden.shape, up.dataSync() as Float32Array, up.shape, 1, 'valid');
      expect(term.shape).toEqual(expected.shape);
      expect(maxAbsDiff(term.dataSync(), expected.data.map((v) => 1.5 * v))).toBeLessThan(1e-5);

      // loss = sum(G ⊙ term) is linear in A (and in B) alone, so a central difference is exact up to
      // float32 rounding even with a large step; compare a few entries with the gradient.
      const g = tf.randomNormal(term.shape, 0, 1, 'float32', 4);
      const loss = () => tf.sum(tf.mul(convLoraTerm(x, state), g)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(loss, [down, up]);
      for (const [variable, indices] of [[down, [0, 17, 53]], [up, [0, 5, 7]]] as const) {
        const analytic = grads[variable.name]!.dataSync();
        for (const index of indices) {
          const original = variable.dataSync().slice();
          const step = 0.5;
          const shifted = (delta: number) => {
            const values = original.slice();
            values[index] += delta;
            tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
            const l = loss();
            const v = l.dataSync()[0]!;
            l.dispose();
            return v;
          };
          const numeric = (shifted(step) - shifted(-step)) / (2 * step);
          tf.tidy(() => variable.assign(tf.tensor(original, variable.shape)));
          expect(Math.abs(numeric - analytic[index]!), `${variable.name}[${index}]`).toBeLessThan(1e-3 * Math.max(1, Math.abs(numeric)));
        }
      }
      tf.dispose([x, down, up, term, g, value, ...Object.values(grads)]);
    });
  }
});

describe('LoRA scale folded into the up factor', () => {
  // in 5, out 6; rank-3 factors on columns [0, 2) and [4, 6) (stacked: k·r = 6), 64 rows of input.
  const site: SiteInfo = { name: 'toy.qkv', kind: 'linear', inFeatures: 5, outFeatures: 6, weight: 'toy.qkv.weight', slices: { a: [0, 2], c: [4, 6] } };
  function setup(scale: number) {
    const x = tf.randomNormal([64, 5], 0, 1, 'float32', 11) as tf.Tensor2D;
    const downs = [12, 13].map((seed) => tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', seed)));
    const ups = [14, 15].map((seed) => tf.variable(tf.randomNormal([3, 2], 0, 1, 'float32', seed)));
    const state: LoraSiteState = {
      site,
      scale,
      dropout: 0,
      factors: [
        { slice: 'a', columns: [0, 2], down: downs[0]!, up: ups[0]! },
        { slice: 'c', columns: [4, 6], down: downs[1]!, up: ups[1]! },
      ],
    };
    /** scale · Σ_s x·A_s·B_s placed at its columns, computed the unfolded way (scaling the [rows, out] sum). */
    const unfolded = () =>
      tf.tidy(() => {
        const placed = state.factors.map((f) => tf.pad(tf.matMul(tf.matMul(x, f.down as tf.Tensor2D), f.up as tf.Tensor2D), [[0, 0], [f.columns[0], 6 - f.columns[1]]]));
        return tf.mul(tf.add(placed[0]!, placed[1]!), scale);
      });
    return { x, state, unfolded, dispose: () => tf.dispose([x, ...downs, ...ups]) };
  }

  it('is bit-identical to scaling the term for scale 1 and a power of two (exact float32 scaling)', () => {
    for (const scale of [1, 2, 0.25]) {
      const { x, state, unfolded, dispose } = setup(scale);
      // One factor's columns are zero in the other's stacked B: each output sums one factor's r terms.
      const term = linearLoraTerm(x, state);
      const expected = unfolded();
      expect(Array.from(term.dataSync())).toEqual(Array.from(expected.dataSync()));
      tf.dispose([term, expected]);
      dispose();
    }
  });

  it('matches the unfolded term within float32 rounding for another scale, and multiplies nothing of the term\'s size', async () => {
    const { x, state, unfolded, dispose } = setup(0.75);
    let term!: tf.Tensor;
    const profile = await tf.profile(() => {
      term = linearLoraTerm(x, state);
      return term;
    });
    const expected = unfolded();
    expect(maxAbsDiff(term.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    const multiplies = profile.kernels.filter((k) => k.name === 'Multiply');
    expect(multiplies.length).toBe(1);
    for (const k of multiplies) expect(tf.util.sizeFromShape(k.outputShapes[0]!)).toBeLessThanOrEqual(6 * 6);
    tf.dispose([term, expected]);
    dispose();
  });

  it('multiplies nothing for scale 1 (alpha = r, the default)', async () => {
    const { x, state, dispose } = setup(1);
    const profile = await tf.profile(() => linearLoraTerm(x, state));
    expect(profile.kernels.filter((k) => k.name === 'Multiply')).toEqual([]);
    tf.dispose(profile.result);
    dispose();
  });
});
