import * as tf from '@tensorflow/tfjs-core';
import { callKernel, view, type WasmBackend } from './kernel-utils';

interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  inputShape: [number, number, number, number];
}

/** True for a 1x1, stride-1, unpadded NHWC convolution, whose input gradient is one matmul. */
function isPointwise(filterShape: readonly number[], a: BackpropInputAttrs): boolean {
  const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
  const unpadded = a.pad === 'same' || a.pad === 'valid' || a.pad === 0 || (Array.isArray(a.pad) && a.pad.flat().every((p) => p === 0));
  return filterShape[0] === 1 && filterShape[1] === 1 && strides[0] === 1 && strides[1] === 1 && unpadded && (a.dataFormat ?? 'NHWC') === 'NHWC';
}

/**
 * `Conv2DBackpropInput` for wasm: for pointwise (1x1, stride 1) convolutions — every non-depthwise
 * conv of a MobileNet but the stem — the input gradient is `dy · Wᵀ` (`[pixels, out] x [out, in]`),
 * one fast XNNPACK product instead of the stock kernel's direct loop. Other shapes use the stock kernel.
 */
export function makeConv2DBackpropInputKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = args.attrs as unknown as BackpropInputAttrs;
    if (!isPointwise(filter.shape, a) || dy.dtype !== 'float32' || filter.dtype !== 'float32') return stock(args);
    const backend = args.backend as WasmBackend;
    const [inChannels, outChannels] = [filter.shape[2]!, filter.shape[3]!];
    const rows = tf.util.sizeFromShape(dy.shape) / outChannels;
    const out = callKernel('BatchMatMul', backend, { a: view(dy, [rows, outChannels]), b: view(filter, [inChannels, outChannels]) }, { transposeA: false, transposeB: true });
    return { ...out, shape: [...a.inputShape] };
  };
}
