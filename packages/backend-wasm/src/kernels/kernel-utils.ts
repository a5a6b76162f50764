import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The wasm backend as the kernels see it (type only; nothing is imported at run time). */
export type WasmBackend = BackendWasm;

/** The backend name every kernel in this folder is registered for. */
export const WASM = 'wasm';

/**
 * Runs the kernel currently registered as `name` on the wasm backend, directly (not through the
 * engine: nothing is recorded on a gradient tape and no engine tensor is created). The caller owns
 * the returned tensor info and must release it with {@link release} (or return it as its output).
 */
export function callKernel(
  name: string,
  backend: WasmBackend,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = tf.getKernel(name, WASM);
  if (config === undefined) throw new Error(`vpeft wasm kernels: the wasm backend has no ${name} kernel`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`vpeft wasm kernels: ${name} returned several outputs`);
  return out;
}

/** Drops one reference to each tensor info's data (frees it when none is left). */
export function release(backend: WasmBackend, ...infos: Array<tf.TensorInfo | undefined>): void {
  for (const info of infos) if (info !== undefined) backend.disposeData(info.dataId);
}

/**
 * The same data seen with another shape, without a new reference: valid only while `info` is,
 * and never to be released on its own (release `info` instead).
 */
export function view(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(info.shape)) {
    throw new Error(`vpeft wasm kernels: cannot view shape [${info.shape}] as [${shape}]`);
  }
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** A float32 view of a wasm tensor's memory. Take it after the last allocation: heap growth detaches it. */
export function f32(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A new float32 tensor info of `shape` filled with zeros. */
export function zeros(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  f32(backend, out).fill(0);
  return out;
}

/** Throws unless every tensor info is float32. */
export function assertFloat32(kernel: string, ...infos: Array<tf.TensorInfo | undefined>): void {
  for (const info of infos) {
    if (info !== undefined && info.dtype !== 'float32') {
      throw new Error(`vpeft wasm ${kernel}: only float32 tensors are supported, got ${info.dtype}`);
    }
  }
}

/** The named inputs of a kernel call, throwing if one is missing. */
export function requireInputs<K extends string>(
  kernel: string,
  inputs: tf.NamedTensorInfoMap,
  ...names: K[]
): Record<K, tf.TensorInfo> {
  const out = {} as Record<K, tf.TensorInfo>;
  for (const name of names) {
    const info = inputs[name];
    if (info == null) throw new Error(`vpeft wasm ${kernel}: missing input ${name}`);
    out[name] = info;
  }
  return out;
}

/** Throws unless the tensor infos all have the shape of the first. */
export function assertSameShape(kernel: string, first: tf.TensorInfo, ...rest: tf.TensorInfo[]): void {
  for (const info of rest) {
    if (!tf.util.arraysEqual(first.shape, info.shape)) {
      throw new Error(`vpeft wasm ${kernel}: shapes [${first.shape}] and [${info.shape}] differ`);
    }
  }
}
