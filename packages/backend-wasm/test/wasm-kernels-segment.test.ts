import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compute, data, expectClose, expectMatchesCpu, t, useWasm } from './wasm-kernels-helpers';

beforeAll(async () => {
  await useWasm();
});

describe('wasm UnsortedSegmentSum', () => {
  it('matches cpu for repeated and unused segments', async () => {
    const x = data([7, 3], 1);
    const ids = [4, 0, 4, 2, 0, 4, 1]; // segment 3 unused
    await expectMatchesCpu(() => tf.unsortedSegmentSum(t(x), tf.tensor1d(ids, 'int32'), 5));
  });

  it('matches cpu for rank-1 and rank-3 data', async () => {
    const x1 = data([6], 2);
    const x3 = data([5, 2, 3], 3);
    await expectMatchesCpu(() => [
      tf.unsortedSegmentSum(t(x1), tf.tensor1d([1, 1, 0, 2, 2, 2], 'int32'), 3),
      tf.unsortedSegmentSum(t(x3), tf.tensor1d([0, 3, 0, 1, 3], 'int32'), 4),
    ]);
  });

  it('matches cpu for int32 data and drops out-of-range ids', async () => {
    const f = () => [
      tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]], [4, 2], 'int32'), tf.tensor1d([1, 0, 1, 1], 'int32'), 2),
      tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([0, 5, -1, 1], 'int32'), 2),
    ];
    const actual = await compute('wasm', f);
    expectClose(actual, await compute('cpu', f));
    // Independent check by hand: rows 0, 2, 3 go to segment 1; ids 5 and -1 are dropped.
    expect(Array.from(actual[0].values)).toEqual([3, 4, 13, 16]);
    expect(Array.from(actual[1].values)).toEqual([1, 4]);
  });

  it('rejects non-int32 segment ids clearly', () => {
    expect(() =>
      tf.engine().runKernel('UnsortedSegmentSum', { x: tf.ones([3]), segmentIds: tf.tensor1d([0, 1, 0]) }, { numSegments: 2 }),
    ).toThrow(/segmentIds must be int32/);
  });

  it.each([0, 1, 2])('gives cpu gradients through tf.gather on axis %i', async (axis) => {
    const x = data([5, 6, 4], 10 + axis);
    const indices = [3, 0, 3, 1, 3];
    const outShape = [5, 6, 4];
    outShape[axis] = indices.length;
    const w = data(outShape, 20 + axis);
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(tf.gather(xx, tf.tensor1d(indices, 'int32'), axis), t(w)));
    await expectMatchesCpu(() => tf.grad(loss)(t(x)));
  });

  it('gives cpu gradients through an embedding lookup with 2-D indices', async () => {
    const table = data([10, 8], 30);
    const w = data([2, 3, 8], 31);
    const loss = (tt: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(tt, tf.tensor2d([[1, 9, 1], [0, 1, 4]], [2, 3], 'int32')), t(w)));
    await expectMatchesCpu(() => tf.grad(loss)(t(table)));
  });
});
