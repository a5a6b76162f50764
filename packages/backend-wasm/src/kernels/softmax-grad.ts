import * as tf from '@tensorflow/tfjs-core';
import { fusedFor, pointer } from '../fused/fused-module';
import { FUSED } from './fused-names';
import { assertFloat32, assertSameShape, requireInputs, type WasmBackend } from './kernel-utils';

/**
 * Softmax's gradient over the last axis, `(dy − Σ dy·y)·y` per row, in one SIMD pass (native/fused.c)
 * instead of tfjs's four full-size kernels (multiply, sum, subtract, multiply).
 */
export const softmaxGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { y, dy } = requireInputs(FUSED.softmaxGrad, inputs, 'y', 'dy');
  assertFloat32(FUSED.softmaxGrad, y, dy);
  assertSameShape(FUSED.softmaxGrad, y, dy);
  const wasm = backend as WasmBackend;
  const dx = wasm.makeOutput(y.shape, 'float32');
  const cols = y.shape[y.shape.length - 1] ?? 1;
  const rows = cols === 0 ? 0 : tf.util.sizeFromShape(y.shape) / cols;
  fusedFor(wasm).softmax_grad(pointer(wasm, y), pointer(wasm, dy), pointer(wasm, dx), rows, cols);
  return dx;
};
