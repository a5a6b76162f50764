import * as tf from '@tensorflow/tfjs-core';
import { convInfoNHWC, im2col, imagesPerChunk, type ConvAttrs } from './conv-utils';
import { copyRange } from './batch-matmul';
import { assertFloat32, callKernel, f32, release, requireInputs, view, type WasmBackend } from './kernel-utils';

type Shape4 = [number, number, number, number];

/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm (missing from the stock backend): the gradient of
 * `tf.depthwiseConv2d` with respect to its input, NHWC, any strides and padding, dilation 1. It is a
 * stride-1 'valid' depthwise convolution (the stock XNNPACK kernel) of `dy` — spread out by the
 * stride and padded by `filter - 1 - pad` — with the spatially flipped filter; with a channel
 * multiplier > 1 the multiplier's outputs are then summed per input channel.
 */
export const depthwiseConv2dNativeBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = requireInputs('DepthwiseConv2dNativeBackpropInput', inputs, 'dy', 'filter');
  const a = (attrs ?? {}) as unknown as ConvAttrs & { inputShape: Shape4 };
  assertFloat32('DepthwiseConv2dNativeBackpropInput', dy, filter);
  const wasm = backend as WasmBackend;
  const info = convInfoNHWC('DepthwiseConv2dNativeBackpropInput', a.inputShape, filter.shape as Shape4, a, true);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  const mult = filter.shape[3];
  const CM = C * mult;
  if (dy.shape.join() !== info.outShape.join()) {
    throw new Error(`vpeft wasm DepthwiseConv2dNativeBackpropInput: dy has shape [${dy.shape}], expected [${info.outShape}]`);
  }

  // dy spread by the stride into a buffer padded so that a 'valid' FHxFW convolution yields H x W.
  const PH = H + FH - 1;
  const PW = W + FW - 1;
  const top = FH - 1 - info.padInfo.top;
  const left = FW - 1 - info.padInfo.left;
  const spread = wasm.makeOutput([N, PH, PW, CM], 'float32');
  const flipped = wasm.makeOutput([FH, FW, CM, 1], 'float32');
  {
    const dst = f32(wasm, spread);
    const src = f32(wasm, dy);
    dst.fill(0);
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        const r = oh * SH + top;
        if (r < 0 || r >= PH) continue;
        for (let ow = 0; ow < OW; ow++) {
          const c = ow * SW + left;
          if (c < 0 || c >= PW) continue;
          const from = ((n * OH + oh) * OW + ow) * CM;
          dst.set(src.subarray(from, from + CM), ((n * PH + r) * PW + c) * CM);
        }
      }
    }
    const w = f32(wasm, filter);
    const fl = f32(wasm, flipped);
    for (let fh = 0; fh < FH; fh++) {
      for (let fw = 0; fw < FW; fw++) {
        const from = ((FH - 1 - fh) * FW + (FW - 1 - fw)) * CM;
        fl.set(w.subarray(from, from + CM), (fh * FW + fw) * CM);
      }
    }
  }
  const full = callKernel(
    'DepthwiseConv2dNative',
    wasm,
    { x: spread, filter: flipped },
    { strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  );
  release(wasm, spread, flipped);
  if (mult === 1) return { ...full, shape: [N, H, W, C] };
  const summed = callKernel('Sum', wasm, { x: view(full, [N, H, W, C, mult]) }, { axis: [4], keepDims: false });
  release(wasm, full);
  return summed;
};

/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm (missing from the stock backend): the gradient of
 * `tf.depthwiseConv2d` with respect to its filter `[FH, FW, C, mult]`, NHWC, any strides and padding,
 * dilation 1. Per chunk of images: im2col patches `[pixels, FH*FW, C, 1]` times `dy`
 * `[pixels, 1, C, mult]` (wasm Multiply, broadcasting), summed over pixels (wasm Sum).
 */
export const depthwiseConv2dNativeBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = requireInputs('DepthwiseConv2dNativeBackpropFilter', inputs, 'x', 'dy');
  const a = (attrs ?? {}) as unknown as ConvAttrs & { filterShape: Shape4 };
  assertFloat32('DepthwiseConv2dNativeBackpropFilter', x, dy);
  const wasm = backend as WasmBackend;
  const info = convInfoNHWC('DepthwiseConv2dNativeBackpropFilter', x.shape as Shape4, a.filterShape, a, true);
  const { batchSize, outHeight, outWidth, inChannels: C, filterHeight: FH, filterWidth: FW } = info;
  const mult = a.filterShape[3];
  const pixels = outHeight * outWidth;
  const taps = FH * FW;
  if (dy.shape.join() !== info.outShape.join()) {
    throw new Error(`vpeft wasm DepthwiseConv2dNativeBackpropFilter: dy has shape [${dy.shape}], expected [${info.outShape}]`);
  }

  const chunk = imagesPerChunk(info);
  let acc: tf.TensorInfo | undefined;
  for (let n0 = 0; n0 < batchSize; n0 += chunk) {
    const count = Math.min(chunk, batchSize - n0);
    const rows = count * pixels;
    const cols = im2col(wasm, x, info, n0, count);
    const dyPart = count === batchSize ? undefined : copyRange(wasm, dy, n0 * pixels * C * mult, [rows, C * mult]);
    const products = callKernel('Multiply', wasm, {
      a: view(cols, [rows, taps, C, 1]),
      b: view(dyPart ?? dy, [rows, 1, C, mult]),
    });
    release(wasm, cols, dyPart);
    const part = callKernel('Sum', wasm, { x: products }, { axis: [0], keepDims: false });
    release(wasm, products);
    if (acc === undefined) {
      acc = part;
    } else {
      const total = f32(wasm, acc);
      const add = f32(wasm, part);
      for (let i = 0; i < total.length; i++) total[i] += add[i];
      release(wasm, part);
    }
  }
  if (acc === undefined) throw new Error('vpeft wasm DepthwiseConv2dNativeBackpropFilter: empty batch');
  return { ...acc, shape: [...a.filterShape] };
};
