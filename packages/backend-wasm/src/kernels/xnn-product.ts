import type * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './kernel-utils';

/** What XNNPACK applies to each product's output: an optional bias of length N, then a clamp activation. */
export interface Epilogue {
  bias?: tf.TensorInfo;
  activation: 'linear' | 'relu' | 'relu6';
}

/** tfjs-backend-wasm's FusableActivation codes (`src/cc/fusable_activations.h`) for the clamp activations. */
const ACTIVATION_CODES: Record<Epilogue['activation'], number> = { linear: 0, relu: 1, relu6: 2 };

/** The wasm module's `_FusedMatMul` function, as tfjs-backend-wasm's own kernel binds it. */
type FusedMatMulFunction = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  activation: number,
  biasId: number,
  preluWeightsId: number,
  leakyreluAlpha: number,
  outId: number,
) => void;

const bound = new WeakMap<WasmBackend, FusedMatMulFunction>();

function fusedMatMulFunction(backend: WasmBackend): FusedMatMulFunction {
  let fn = bound.get(backend);
  if (fn === undefined) {
    const module = backend.wasm as unknown as { cwrap(name: string, ret: null, args: string[]): FusedMatMulFunction };
    const n = 'number';
    fn = module.cwrap('_FusedMatMul', null, [n, 'array', n, n, 'array', n, n, n, n, n, n, n, n]);
    bound.set(backend, fn);
  }
  return fn;
}

function wasmId(backend: WasmBackend, info: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error('vpeft wasm matmul: a tensor of the product is not on the wasm backend');
  return data.id;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/**
 * `out[M, N] = a[M, K] · b[K, N]` (+ bias, activation) by XNNPACK, written into `out`'s memory: the
 * call the stock wasm kernels make for untransposed batch-1 operands, without their output
 * allocation, so `out` may be a {@link window} onto a larger result. XNNPACK packs `b` once per
 * tensor id and caches the packing until that id is freed: `b` must never have been used with
 * another shape (see `guardWeights`).
 */
export function productInto(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  out: tf.TensorInfo,
  m: number,
  k: number,
  n: number,
  epilogue: Epilogue,
): void {
  const biasId = epilogue.bias === undefined ? 0 : wasmId(backend, epilogue.bias);
  fusedMatMulFunction(backend)(
    wasmId(backend, a),
    shapeBytes([1, m, k]),
    3,
    wasmId(backend, b),
    shapeBytes([1, k, n]),
    3,
    false,
    false,
    ACTIVATION_CODES[epilogue.activation],
    biasId,
    0,
    0,
    wasmId(backend, out),
  );
}

/**
 * A tensor of `shape` over `src`'s float32 elements from `offset` on (no copy), registered with the
 * wasm module so that its functions read and write it. Valid while `src` is; drop it with
 * {@link dropWindow}, never with `release` (the memory belongs to `src`).
 */
export function window(backend: WasmBackend, src: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
  const data = backend.dataIdMap.get(src.dataId);
  if (data === undefined) throw new Error('vpeft wasm matmul: a tensor of the product is not on the wasm backend');
  return backend.makeOutput(shape, 'float32', data.memoryOffset + offset * 4);
}

/** Unregisters a {@link window} (and any XNNPACK operator cached for its id) without freeing its memory. */
export function dropWindow(backend: WasmBackend, info: tf.TensorInfo): void {
  backend.wasm.tfjs.disposeData(wasmId(backend, info));
  backend.dataIdMap.delete(info.dataId);
}
