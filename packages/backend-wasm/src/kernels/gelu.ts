import * as tf from '@tensorflow/tfjs-core';
import { fusedFor, pointer } from '../fused/fused-module';
import { FUSED } from './fused-names';
import { assertFloat32, assertSameShape, requireInputs, type WasmBackend } from './kernel-utils';

/** Exact GELU in one SIMD pass (native/fused.c) instead of five full-size kernels. */
export const gelu: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = requireInputs(FUSED.gelu, inputs, 'x');
  assertFloat32(FUSED.gelu, x);
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput(x.shape, 'float32');
  fusedFor(wasm).gelu(pointer(wasm, x), pointer(wasm, out), tf.util.sizeFromShape(x.shape));
  return out;
};

/** GELU's gradient in one SIMD pass instead of ten full-size kernels. */
export const geluGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = requireInputs(FUSED.geluGrad, inputs, 'dy', 'x');
  assertFloat32(FUSED.geluGrad, dy, x);
  assertSameShape(FUSED.geluGrad, dy, x);
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput(x.shape, 'float32');
  fusedFor(wasm).gelu_grad(pointer(wasm, x), pointer(wasm, dy), pointer(wasm, out), tf.util.sizeFromShape(x.shape));
  return out;
};
