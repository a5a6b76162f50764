import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyBox } from '../src/kernels/slice';
import { compute, data, expectClose, expectMatchesCpu, randomValues, t, useWasm } from './wasm-kernels-helpers';

beforeAll(async () => {
  await useWasm();
});

/** Random integers in [0, n) from the seeded stream. */
function ints(count: number, n: number, seed: number): number[] {
  return Array.from(randomValues(count, seed), (v) => Math.min(n - 1, Math.floor(((v + 1) / 2) * n)));
}

describe('wasm Slice, SplitV and Unpack (copy only the slice)', () => {
  it.each([1, 2, 3, 4, 5, 6])('Slice matches cpu on 20 random boxes of rank %i', async (rank) => {
    for (let trial = 0; trial < 20; trial++) {
      const seed = 100 * rank + trial;
      const shape = ints(rank, 5, seed).map((d) => d + 1);
      const begin = shape.map((d, i) => ints(1, d, seed + 17 * i + 1)[0]!);
      // Half the trials take some axes whole (merged runs), including size -1.
      const size = shape.map((d, i) => (trial % 2 === 0 && i % 2 === 1 ? (i === 1 ? -1 : d - begin[i]!) : 1 + ints(1, d - begin[i]!, seed + 31 * i + 2)[0]!));
      const x = data(shape, seed);
      const actual = await compute('wasm', () => tf.slice(t(x), begin, size));
      expectClose(actual, await compute('cpu', () => tf.slice(t(x), begin, size)), 0);
    }
  });

  it('splits the ViT qkv layout [B, N, 3D] on the last axis, and int32 data, as cpu does', async () => {
    const qkv = data([2, 7, 3 * 20], 5);
    await expectMatchesCpu(() => tf.split(t(qkv), 3, 2), 0);
    await expectMatchesCpu(() => tf.split(t(qkv), [1, 4, 2], 1), 0);
    const f = () => tf.split(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32'), [2, 1], 1);
    const out = await compute('wasm', f);
    expect(out.map((o) => Array.from(o.values))).toEqual([[1, 2, 4, 5], [3, 6]]);
  });

  it.each([0, 1, 2])('Unpack on axis %i matches cpu', async (axis) => {
    const x = data([3, 4, 5], 40 + axis);
    await expectMatchesCpu(() => tf.unstack(t(x), axis), 0);
  });

  it('gives cpu gradients through split and slice', async () => {
    const x = data([2, 5, 12], 50);
    const w = data([2, 5, 4], 51);
    const loss = (xx: tf.Tensor) => {
      const [a, b, c] = tf.split(xx, 3, 2);
      return tf.sum(tf.mul(tf.add(tf.mul(a!, b!), tf.slice(c!, [0, 0, 0], [2, 5, 4])), t(w)));
    };
    await expectMatchesCpu(() => tf.grad(loss)(t(x)));
  });

  it('copyBox merges whole trailing axes into one run and walks the rest (independent index arithmetic)', () => {
    const shape = [3, 4, 5];
    const src = Float32Array.from({ length: 60 }, (_, i) => i);
    const dst = new Float32Array(2 * 4 * 5);
    copyBox(src, shape, dst, [1, 0, 0], [2, 4, 5]);
    expect(Array.from(dst)).toEqual(Array.from({ length: 40 }, (_, i) => 20 + i));
    const box = new Float32Array(2 * 2 * 3);
    copyBox(src, shape, box, [0, 1, 2], [2, 2, 3]);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 1; j < 3; j++) for (let k = 2; k < 5; k++) expected.push(i * 20 + j * 5 + k);
    expect(Array.from(box)).toEqual(expected);
    // Views onto one buffer (two tensors on the wasm heap) copy through copyWithin: same result.
    const heap = new Float32Array(60 + 12 + 3);
    const shared = heap.subarray(0, 60);
    shared.set(src);
    const out = heap.subarray(63, 75);
    copyBox(shared, shape, out, [0, 1, 2], [2, 2, 3]);
    expect(Array.from(out)).toEqual(expected);
    expect(Array.from(heap.subarray(60, 63))).toEqual([0, 0, 0]);
  });
});

describe('wasm Concat (copies runs with the heap\'s copyWithin)', () => {
  it.each([0, 1, 2])('joins three [2, 7, 20]-like tensors on axis %i as cpu does', async (axis) => {
    const shapes = [0, 1, 2].map((i) => [2, 7, 20].map((d, a) => (a === axis ? d + i : d)));
    const xs = shapes.map((shape, i) => data(shape, 60 + i));
    await expectMatchesCpu(() => tf.concat(xs.map(t), axis), 0);
  });

  it('joins int32 and bool data, skips empty inputs, and returns a single input unchanged', async () => {
    const ints = await compute('wasm', () => tf.concat([tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), tf.tensor2d([[5], [6]], [2, 1], 'int32')], 1));
    expect(Array.from(ints[0]!.values)).toEqual([1, 2, 5, 3, 4, 6]);
    const bools = await compute('wasm', () => tf.concat([tf.tensor2d([[true], [false]], [2, 1], 'bool'), tf.tensor2d([[false, true], [true, true]], [2, 2], 'bool')], 1));
    expect(Array.from(bools[0]!.values)).toEqual([1, 0, 1, 0, 1, 1]);
    const withEmpty = await compute('wasm', () => tf.concat([tf.zeros([2, 0]), tf.tensor2d([[1, 2], [3, 4]]), tf.zeros([2, 0])], 1));
    expect(Array.from(withEmpty[0]!.values)).toEqual([1, 2, 3, 4]);
    const single = await compute('wasm', () => tf.concat([tf.zeros([3, 0]), tf.tensor2d([[7], [8], [9]])], 1));
    expect(Array.from(single[0]!.values)).toEqual([7, 8, 9]);
  });

  it('gives cpu gradients through concat (the qkv split\'s gradient is one)', async () => {
    const parts = [0, 1, 2].map((i) => data([2, 5, 4], 70 + i));
    const w = data([2, 5, 12], 73);
    await expectMatchesCpu(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.concat([a, b, c], 2), t(w))))(parts.map(t)));
  });
});

describe('wasm Identity (shares memory, as cpu does)', () => {
  it('tf.clone shares the data with one more reference; the clone outlives the original and a variable\'s later assign', async () => {
    const backend = tf.backend() as unknown as { refCount(dataId: object): number };
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(backend.refCount(x.dataId)).toBe(2);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    const v = tf.variable(tf.tensor1d([4, 5]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([6, 7]));
    expect(Array.from(await snapshot.data())).toEqual([4, 5]);
    expect(Array.from(await v.data())).toEqual([6, 7]);
    tf.dispose([y, v, snapshot]);
  });

  it('leaves tensor memory flat over repeated same-dtype casts in a gradient', () => {
    const x = tf.randomNormal([64, 32], 0, 1, 'float32', 1);
    const w = tf.randomNormal([32, 16], 0, 1, 'float32', 2);
    const step = () => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D), 2)))(x)).dispose();
    step();
    const before = tf.memory().numBytes;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numBytes).toBe(before);
    tf.dispose([x, w]);
  });
});
