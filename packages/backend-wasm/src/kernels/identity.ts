import type * as tf from '@tensorflow/tfjs-core';
import { requireInputs, type WasmBackend } from './kernel-utils';

/**
 * `Identity` (`tf.clone`, and every same-dtype `tf.cast`, which tfjs's gradients apply to each operand
 * of a product) for wasm: shares the input's memory with one more reference, as the cpu and webgl
 * backends do, instead of copying it (tensors are immutable; variables swap their data on assign).
 * Strings go to the stock kernel.
 */
export function makeIdentityKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = requireInputs('Identity', args.inputs, 'x');
    if (x.dtype === 'string') return stock(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
