import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compute, data, expectClose, t, useWasm } from './wasm-kernels-helpers';

beforeAll(async () => {
  await useWasm();
});

// Independent reference: batch norm composed from elementary ops, differentiated by tfjs autodiff.
const batchNormComposed = (x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor, eps: number) =>
  tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), scale), offset);

describe('lean FusedBatchNorm gradient (vpeft registers it over tfjs\'s own)', () => {
  const x = data([2, 3, 4, 5], 1);
  const mean = data([5], 2);
  const variance = { shape: [5], values: Float32Array.from(data([5], 3).values, (v) => 0.5 + v * v) };
  const offset = data([5], 4);
  const scale = data([5], 5);
  const w = data([2, 3, 4, 5], 6);
  const eps = 1e-3;

  it.each(['wasm', 'cpu'] as const)('gives the composed formula\'s gradients for x, mean, variance, scale and offset on %s', async (backend) => {
    const grads = (f: (...a: tf.Tensor[]) => tf.Tensor) => () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(f(a, b, c, d, e), t(w))))([
        t(x), t(mean), t(variance), t(offset), t(scale),
      ]);
    const ours = await compute(backend, grads((a, b, c, d, e) => tf.batchNorm(a, b, c, d, e, eps)));
    const reference = await compute(backend, grads((a, b, c, d, e) => batchNormComposed(a, b, c, d, e, eps)));
    expectClose(ours, reference, 1e-4);
  });

  it('broadcasts per-channel statistics of rank 4 ([1, 1, 1, C]) too', async () => {
    const r4 = (d: { values: Float32Array }) => tf.tensor(d.values, [1, 1, 1, 5]);
    const f = (norm: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => tf.Tensor) => () =>
      tf.grads((a: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(norm(a, r4(mean), r4(variance), d, e), t(w))))([t(x), r4(offset), r4(scale)]);
    expectClose(
      await compute('wasm', f((a, b, c, d, e) => tf.batchNorm(a, b, c, d, e, eps))),
      await compute('wasm', f((a, b, c, d, e) => batchNormComposed(a, b, c, d, e, eps))),
    );
  });
});

describe('lean ClipByValue gradient (one pass on wasm)', () => {
  // Values on both bounds included: the gradient passes where lo <= x <= hi (TensorFlow's convention).
  const xs = [-2, 0, 0.5, 3, 6, 6.5, -0.1, 5.99];
  const dy = [1, 2, 3, 4, 5, 6, 7, 8];
  const expected = xs.map((v, i) => (v >= 0 && v <= 6 ? dy[i]! : 0));

  it.each(['wasm', 'cpu'] as const)('passes dy exactly where 0 <= x <= 6 on %s (ReLU6)', async (backend) => {
    const [g] = await compute(backend, () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(x, 0, 6), tf.tensor1d(dy))))(tf.tensor1d(xs)));
    expect(Array.from(g!.values)).toEqual(expected);
  });

  it('matches cpu on a large random activation and takes a second derivative through the mask', async () => {
    const x = data([4, 16, 16, 8], 9);
    const v = data([4, 16, 16, 8], 10);
    const first = () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(a, -0.3, 0.4), t(v))))(t(x));
    expectClose(await compute('wasm', first), await compute('cpu', first), 0);
    // d/dv of <grad_x(sum(clip(x)·v)), u> = mask·u: the gradient of the mask kernel w.r.t. dy.
    const u = data([4, 16, 16, 8], 11);
    const second = () => tf.grad((vv: tf.Tensor) => tf.sum(tf.mul(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(a, -0.3, 0.4), vv)))(t(x)), t(u))))(t(v));
    const [g] = await compute('wasm', second);
    const mask = Array.from(x.values, (xi, i) => (xi >= -0.3 && xi <= 0.4 ? u.values[i]! : 0));
    expect(Array.from(g!.values)).toEqual(mask);
  });
});
