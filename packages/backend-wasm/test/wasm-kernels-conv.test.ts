import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { im2colLimit } from '../src/kernels/conv-utils';
import { data, expectMatchesCpu, t, useWasm, wasmHeapBytes } from './wasm-kernels-helpers';

beforeAll(async () => {
  await useWasm();
});

const defaultLimit = im2colLimit.maxElements;
afterEach(() => {
  im2colLimit.maxElements = defaultLimit;
});

type Pad = 'same' | 'valid';
interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
}

const CONV: ConvCase[] = [
  { x: [2, 9, 10, 3], f: [3, 3, 3, 4], strides: [1, 1], pad: 'same' },
  { x: [2, 9, 10, 3], f: [3, 3, 3, 4], strides: [2, 2], pad: 'valid' },
  { x: [2, 9, 8, 3], f: [2, 3, 3, 5], strides: [2, 1], pad: 'same' },
  { x: [1, 11, 7, 2], f: [5, 3, 2, 3], strides: [3, 3], pad: 'same' },
  { x: [2, 16, 16, 3], f: [4, 4, 3, 8], strides: [4, 4], pad: 'valid' }, // ViT patch embedding
  { x: [2, 6, 6, 24], f: [3, 3, 24, 6], strides: [1, 1], pad: 'same' }, // rows of >= 64 floats (copied with set)
];

function outShape(c: ConvCase, outChannels: number): number[] {
  const info = tf.backend_util.computeConv2DInfo(c.x, [c.f[0], c.f[1], c.x[3], outChannels], c.strides, 1, c.pad);
  return info.outShape;
}

describe('wasm Conv2DBackpropFilter', () => {
  it.each(CONV)('matches cpu as a kernel: %j', async (c) => {
    const x = data(c.x, 1);
    const dy = data(outShape(c, c.f[3]), 2);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
    await expectMatchesCpu(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t(x), dy: t(dy) }, attrs) as tf.Tensor);
  });

  it.each(CONV)('gives cpu gradients through tf.conv2d: %j', async (c) => {
    const x = data(c.x, 3);
    const f = data(c.f, 4);
    const w = data(outShape(c, c.f[3]), 5);
    const loss = (xx: tf.Tensor, ff: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.strides, c.pad), t(w)));
    await expectMatchesCpu(() => tf.grads(loss)([t(x), t(f)]));
  });

  it('sums chunks of images when the im2col buffer would be too large', async () => {
    im2colLimit.maxElements = 1000; // one image per chunk
    const c = CONV[0];
    const x = data([3, ...c.x.slice(1)], 6);
    const dy = data([3, ...outShape(c, c.f[3]).slice(1)], 7);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
    await expectMatchesCpu(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t(x), dy: t(dy) }, attrs) as tf.Tensor);
  });

  it('rejects NCHW clearly', () => {
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [1, 1, 2, 2] };
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.ones([1, 2, 3, 3]), dy: tf.ones([1, 2, 3, 3]) }, attrs)).toThrow(
      /only NHWC/,
    );
  });

  it('leaks no tensors or wasm memory', () => {
    const backend = tf.backend() as BackendWasm;
    const x = t(data([2, 9, 10, 3], 8));
    const f = t(data([3, 3, 3, 4], 9));
    const step = () => tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, f]));
    step();
    const tensors = tf.memory().numTensors;
    const ids = backend.numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(ids);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose([x, f]);
  });
});

const DEPTHWISE: ConvCase[] = [
  { x: [2, 9, 10, 3], f: [3, 3, 3, 1], strides: [1, 1], pad: 'same' },
  { x: [2, 9, 10, 3], f: [3, 3, 3, 2], strides: [2, 2], pad: 'valid' },
  { x: [2, 9, 8, 4], f: [2, 3, 4, 3], strides: [2, 1], pad: 'same' },
  { x: [1, 11, 7, 2], f: [5, 3, 2, 1], strides: [3, 3], pad: 'same' },
  { x: [2, 14, 14, 16], f: [3, 3, 16, 1], strides: [1, 1], pad: 'same' },
];

describe('wasm DepthwiseConv2dNative backprops', () => {
  it.each(DEPTHWISE)('match cpu as kernels: %j', async (c) => {
    const x = data(c.x, 11);
    const f = data(c.f, 12);
    const dy = data(outShape(c, c.x[3] * c.f[3]), 13);
    const attrs = { strides: c.strides, pad: c.pad, dilations: [1, 1] };
    await expectMatchesCpu(() => [
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: t(dy), filter: t(f) }, { ...attrs, inputShape: c.x }) as tf.Tensor,
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t(x), dy: t(dy) }, { ...attrs, filterShape: c.f }) as tf.Tensor,
    ]);
  });

  it.each(DEPTHWISE)('give cpu gradients through tf.depthwiseConv2d: %j', async (c) => {
    const x = data(c.x, 14);
    const f = data(c.f, 15);
    const w = data(outShape(c, c.x[3] * c.f[3]), 16);
    const loss = (xx: tf.Tensor, ff: tf.Tensor) =>
      tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.strides, c.pad), t(w)));
    await expectMatchesCpu(() => tf.grads(loss)([t(x), t(f)]));
  });

  it('sums chunks of images for the filter gradient', async () => {
    im2colLimit.maxElements = 1000;
    const c = DEPTHWISE[1];
    const x = data(c.x, 17);
    const dy = data(outShape(c, c.x[3] * c.f[3]), 18);
    const attrs = { strides: c.strides, pad: c.pad, dilations: [1, 1], filterShape: c.f };
    await expectMatchesCpu(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t(x), dy: t(dy) }, attrs) as tf.Tensor);
  });

  it('rejects dilation > 1 clearly', () => {
    const attrs = { strides: 1, pad: 'same', dilations: [2, 2], filterShape: [3, 3, 2, 1] };
    expect(() =>
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.ones([1, 5, 5, 2]), dy: tf.ones([1, 5, 5, 2]) }, attrs),
    ).toThrow(/only dilation 1/);
    expect(() =>
      tf.engine().runKernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy: tf.ones([1, 5, 5, 2]), filter: tf.ones([3, 3, 2, 1]) },
        { strides: 1, pad: 'same', dilations: [2, 2], inputShape: [1, 5, 5, 2] },
      ),
    ).toThrow(/only dilation 1/);
  });
});

describe('wasm Conv2DBackpropInput (pointwise fast path)', () => {
  const POINTWISE: Array<{ x: [number, number, number, number]; f: [number, number, number, number]; pad: Pad }> = [
    { x: [2, 7, 5, 16], f: [1, 1, 16, 24], pad: 'same' },
    { x: [1, 4, 4, 3], f: [1, 1, 3, 8], pad: 'valid' },
  ];

  it.each(POINTWISE)('matches cpu as a kernel: %j', async (c) => {
    const dy = data([c.x[0], c.x[1], c.x[2], c.f[3]], 6);
    const f = data(c.f, 7);
    const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x };
    await expectMatchesCpu(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: t(dy), filter: t(f) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
  });

  it('gives cpu input gradients through tf.conv2d, pointwise and (stock) 3x3 strided', async () => {
    for (const c of [{ x: [2, 6, 6, 8], f: [1, 1, 8, 4], s: 1 }, { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 2 }] as const) {
      const x = data([...c.x], 8);
      const f = data([...c.f], 9);
      const loss = (xx: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, t(f) as tf.Tensor4D, c.s, 'same')));
      await expectMatchesCpu(() => tf.grad(loss)(t(x)));
    }
  });
});
