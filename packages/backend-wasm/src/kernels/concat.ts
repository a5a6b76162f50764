import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './kernel-utils';
import { copyRun, sharedBytes } from './slice';

/**
 * `Concat` for wasm: the stock kernel joins along an inner axis with a `subarray` + `set` per run in
 * JavaScript, which V8 runs on its slow generic path once the kernel has seen several dtypes (2-10 ms
 * for the ViT's [8, 197, 192] x 3 → [8, 197, 576], the gradient of the qkv split). This one copies the
 * same runs with the heap's `copyWithin` ({@link copyRun}). Strings and complex numbers go to the
 * stock kernel.
 */
export function makeConcatKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const inputs = Object.values(args.inputs) as tf.TensorInfo[];
    const dtype = inputs[0]?.dtype;
    if (dtype === undefined || dtype === 'string' || dtype === 'complex64') return stock(args);
    const { axis } = args.attrs as unknown as tf.ConcatAttrs;
    const shapes = inputs.map((t) => t.shape);
    const $axis = tf.util.parseAxisParam(axis, shapes[0]!)[0]!;
    tf.backend_util.assertParamsConsistent(shapes, $axis);
    const outShape = tf.backend_util.computeOutShape(shapes, $axis);
    const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    // One non-empty input (or none): the stock kernel returns it (a shared-memory Identity).
    if (parts.length <= 1) return stock(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(outShape, dtype);
    const outer = tf.util.sizeFromShape(parts[0]!.shape.slice(0, $axis));
    const inner = parts.map((t) => tf.util.sizeFromShape(t.shape.slice($axis)));
    const total = inner.reduce((a, b) => a + b, 0);
    // Views after the allocation (heap growth detaches earlier ones).
    const dst = backend.typedArrayFromHeap(out);
    const srcs = parts.map((t) => backend.typedArrayFromHeap(t));
    const bytes = sharedBytes(srcs[0]!, dst);
    for (let b = 0; b < outer; b++) {
      let at = b * total;
      for (let i = 0; i < srcs.length; i++) {
        copyRun(srcs[i]!, b * inner[i]!, dst, at, inner[i]!, bytes);
        at += inner[i]!;
      }
    }
    return out;
  };
}
