import * as tf from '@tensorflow/tfjs-core';
import { makeBatchMatMulKernel } from './batch-matmul';
import { CLIP_GRAD, clipByValueGrad } from './clip-grad';
import { makeConcatKernel } from './concat';
import { conv2DBackpropFilter } from './conv2d-backprop-filter';
import { makeConv2DBackpropInputKernel } from './conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-backprop';
import { makeFusedMatMulKernel } from './fused-matmul';
import { FUSED } from './fused-names';
import { gelu, geluGrad } from './gelu';
import { makeIdentityKernel } from './identity';
import { WASM } from './kernel-utils';
import { layerNorm, layerNormGrad } from './layer-norm';
import { makeSliceKernel, makeSplitVKernel, makeUnpackKernel } from './slice';
import { qkvAttention, qkvAttentionGrad } from './qkv-attention';
import { softmaxGrad } from './softmax-grad';
import { fusedModuleSupported } from '../fused/fused-module';
import { unsortedSegmentSum } from './unsorted-segment-sum';

/** Kernels the stock wasm backend lacks, added by {@link registerFastWasmKernels}. */
const ADDED: Record<string, tf.KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
  UnsortedSegmentSum: unsortedSegmentSum,
  [CLIP_GRAD]: clipByValueGrad,
};

/** vpeft's one-pass SIMD kernels (native/fused.c), added where the engine runs wasm SIMD. */
const FUSED_KERNELS: Record<string, tf.KernelFunc> = {
  [FUSED.gelu]: gelu,
  [FUSED.geluGrad]: geluGrad,
  [FUSED.layerNorm]: layerNorm,
  [FUSED.layerNormGrad]: layerNormGrad,
  [FUSED.softmaxGrad]: softmaxGrad,
  [FUSED.qkvAttention]: qkvAttention,
  [FUSED.qkvAttentionGrad]: qkvAttentionGrad,
};

/** Stock kernels replaced by {@link registerFastWasmKernels}, and how to build the replacement from them. */
const REPLACED: Record<string, (stock: tf.KernelFunc) => tf.KernelFunc> = {
  BatchMatMul: makeBatchMatMulKernel,
  Concat: makeConcatKernel,
  _FusedMatMul: makeFusedMatMulKernel,
  Conv2DBackpropInput: makeConv2DBackpropInputKernel,
  Identity: makeIdentityKernel,
  Slice: makeSliceKernel,
  SplitV: makeSplitVKernel,
  Unpack: makeUnpackKernel,
};

/** The stock configs we replaced, kept to call (fast 2-D products) and to restore. */
const stockConfigs = new Map<string, tf.KernelConfig>();
const added = new Set<string>();

/** Whether vpeft's wasm kernels are currently registered. */
export function fastWasmKernelsRegistered(): boolean {
  return stockConfigs.size > 0 || added.size > 0;
}

/**
 * Registers vpeft's wasm kernels: a fast `BatchMatMul` and `_FusedMatMul` (every transpose, batch and
 * broadcast case through XNNPACK, instead of the stock ~3 GFLOP/s loop), `Slice`/`SplitV`/`Unpack` that
 * copy only the slice (the stock ones copy the whole input first), a `Concat` that copies with the
 * heap's `copyWithin`, an `Identity` that shares memory
 * instead of copying it, and the kernels the stock
 * backend lacks — `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`,
 * `DepthwiseConv2dNativeBackpropFilter`, `UnsortedSegmentSum` (the gradients of conv2d, depthwiseConv2d
 * and gather) — and, where the engine runs wasm SIMD, the one-pass kernels of native/fused.c that
 * `@vpeft/core`'s GELU, LayerNorm and attention on the qkv layout and the Softmax gradient use ({@link FUSED}). Idempotent; a missing kernel that tfjs later ships itself is left alone. Called on
 * import of `@vpeft/backend-wasm` (before or after the wasm backend initialises: the stock
 * kernels' `setupFunc`s are kept, and tfjs runs them when the backend starts).
 */
export function registerFastWasmKernels(): void {
  for (const [name, build] of Object.entries(REPLACED)) {
    if (stockConfigs.has(name)) continue;
    const stock = tf.getKernel(name, WASM);
    if (stock === undefined) throw new Error(`vpeft wasm kernels: the wasm backend has no stock ${name} kernel to replace`);
    tf.unregisterKernel(name, WASM);
    // The stock setupFunc binds the wasm function the stock kernelFunc calls; keep it for re-initialisation.
    tf.registerKernel({ kernelName: name, backendName: WASM, setupFunc: stock.setupFunc, kernelFunc: build(stock.kernelFunc) });
    stockConfigs.set(name, stock);
  }
  const toAdd = fusedModuleSupported() ? { ...ADDED, ...FUSED_KERNELS } : ADDED;
  for (const [name, kernelFunc] of Object.entries(toAdd)) {
    if (added.has(name) || tf.getKernel(name, WASM) !== undefined) continue;
    tf.registerKernel({ kernelName: name, backendName: WASM, kernelFunc });
    added.add(name);
  }
}

/** Restores the stock wasm kernels (used by benchmarks and tests to compare). */
export function unregisterFastWasmKernels(): void {
  for (const [name, stock] of stockConfigs) {
    tf.unregisterKernel(name, WASM);
    tf.registerKernel(stock);
  }
  stockConfigs.clear();
  for (const name of added) tf.unregisterKernel(name, WASM);
  added.clear();
}
