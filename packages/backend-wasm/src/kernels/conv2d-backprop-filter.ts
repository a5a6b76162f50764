import * as tf from '@tensorflow/tfjs-core';
import { convInfoNHWC, im2col, imagesPerChunk, type ConvAttrs } from './conv-utils';
import { copyRange } from './batch-matmul';
import { assertFloat32, callKernel, f32, release, requireInputs, view, type WasmBackend } from './kernel-utils';

/**
 * `Conv2DBackpropFilter` for wasm (missing from the stock backend): the gradient of `tf.conv2d` with
 * respect to its filter, NHWC, any strides and padding, dilation 1. Per chunk of images it builds the
 * im2col matrix `cols` (`[pixels, FH*FW*Cin]`) and computes `dy^T cols` (`[Cout, FH*FW*Cin]`) with
 * the (fast) BatchMatMul kernel, summing the chunks; one transpose gives `[FH, FW, Cin, Cout]`.
 */
export const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = requireInputs('Conv2DBackpropFilter', inputs, 'x', 'dy');
  const a = (attrs ?? {}) as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  assertFloat32('Conv2DBackpropFilter', x, dy);
  const wasm = backend as WasmBackend;
  const info = convInfoNHWC('Conv2DBackpropFilter', x.shape as [number, number, number, number], a.filterShape, a, false);
  const { batchSize, outHeight, outWidth, outChannels } = info;
  const pixels = outHeight * outWidth;
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  if (dy.shape.join() !== info.outShape.join()) {
    throw new Error(`vpeft wasm Conv2DBackpropFilter: dy has shape [${dy.shape}], expected [${info.outShape}]`);
  }

  const chunk = imagesPerChunk(info);
  let acc: tf.TensorInfo | undefined;
  for (let n0 = 0; n0 < batchSize; n0 += chunk) {
    const count = Math.min(chunk, batchSize - n0);
    const rows = count * pixels;
    const cols = im2col(wasm, x, info, n0, count);
    const dyPart = count === batchSize ? undefined : copyRange(wasm, dy, n0 * pixels * outChannels, [rows, outChannels]);
    const part = callKernel(
      'BatchMatMul',
      wasm,
      { a: dyPart ?? view(dy, [rows, outChannels]), b: cols },
      { transposeA: true, transposeB: false },
    );
    release(wasm, cols, dyPart);
    if (acc === undefined) {
      acc = part;
    } else {
      const total = f32(wasm, acc);
      const add = f32(wasm, part);
      for (let i = 0; i < total.length; i++) total[i] += add[i];
      release(wasm, part);
    }
  }
  if (acc === undefined) throw new Error('vpeft wasm Conv2DBackpropFilter: empty batch');
  const out = callKernel('Transpose', wasm, { x: view(acc, [outChannels, rowLength]) }, { perm: [1, 0] });
  release(wasm, acc);
  return { ...out, shape: [...a.filterShape] };
};
