import * as tf from '@tensorflow/tfjs-core';
import { f32, type WasmBackend } from './kernel-utils';

/**
 * Largest im2col buffer (in floats, default 8 Mi = 32 MiB) built at once; larger batches are processed
 * in chunks of whole images. Mutable so tests can force chunking on small inputs.
 */
export const im2colLimit = { maxElements: 1 << 23 };

/** The raw convolution attributes the backprop kernels receive. */
export interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
  dataFormat?: 'NHWC' | 'NCHW';
}

/**
 * Computes the convolution geometry for an NHWC convolution with dilation 1, throwing a clear error
 * for what these kernels do not support (NCHW, dilation > 1).
 */
export function convInfoNHWC(
  kernel: string,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`vpeft wasm ${kernel}: only NHWC (channelsLast) is supported, got dataFormat ${attrs.dataFormat}`);
  }
  const dilations = attrs.dilations ?? 1;
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1) {
    throw new Error(`vpeft wasm ${kernel}: only dilation 1 is supported, got dilations [${dh}, ${dw}]`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

/** How many images go into one im2col chunk of at most `im2colLimit.maxElements` floats (at least one). */
export function imagesPerChunk(info: tf.backend_util.Conv2DInfo): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(1, Math.min(info.batchSize, Math.floor(im2colLimit.maxElements / Math.max(1, perImage))));
}

/**
 * im2col for images `[n0, n0 + count)` of the NHWC input `x`: a new tensor info
 * `[count * outHeight * outWidth, filterHeight * filterWidth * inChannels]` whose row for output pixel
 * (n, oh, ow) holds the input patch it sees, laid out (fh, fw, c) like the filter, zeros in the padding.
 */
export function im2col(
  backend: WasmBackend,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  n0: number,
  count: number,
): tf.TensorInfo {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const rowLength = FH * FW * C;
  const cols = backend.makeOutput([count * OH * OW, rowLength], 'float32');
  const dst = f32(backend, cols);
  const src = f32(backend, x);
  dst.fill(0);
  let row = 0;
  for (let n = n0; n < n0 + count; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, row++) {
        const iw0 = ow * SW - padLeft;
        const fwStart = Math.max(0, -iw0);
        const fwEnd = Math.min(FW, W - iw0);
        if (fwStart >= fwEnd) continue;
        const length = (fwEnd - fwStart) * C;
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * SH + fh - padTop;
          if (ih < 0 || ih >= H) continue;
          // Taps fw in [fwStart, fwEnd) of filter row fh are contiguous in both x and the column row.
          const from = ((n * H + ih) * W + iw0 + fwStart) * C;
          const to = row * rowLength + (fh * FW + fwStart) * C;
          if (length >= 64) dst.set(src.subarray(from, from + length), to);
          else for (let i = 0; i < length; i++) dst[to + i] = src[from + i];
        }
      }
    }
  }
  return cols;
}
