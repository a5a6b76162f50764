import * as tf from '@tensorflow/tfjs-core';
import { requireInputs, type WasmBackend } from './kernel-utils';

/**
 * `UnsortedSegmentSum` for wasm (missing from the stock backend; it is the gradient of `tf.gather`):
 * `out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s`. `segmentIds` (int32) has the shape
 * of x's leading dimensions; ids outside `[0, numSegments)` are dropped, as in TensorFlow. A single
 * scatter-add pass over the wasm heap, O(size of x).
 */
export const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = requireInputs('UnsortedSegmentSum', inputs, 'x', 'segmentIds');
  const { numSegments } = (attrs ?? {}) as unknown as tf.UnsortedSegmentSumAttrs;
  const wasm = backend as WasmBackend;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`vpeft wasm UnsortedSegmentSum: x must be float32 or int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`vpeft wasm UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}`);
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`vpeft wasm UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  const idRank = segmentIds.shape.length;
  if (segmentIds.shape.join() !== x.shape.slice(0, idRank).join()) {
    throw new Error(
      `vpeft wasm UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
    );
  }
  const outShape = [numSegments, ...x.shape.slice(idRank)];
  const inner = tf.util.sizeFromShape(x.shape.slice(idRank));
  const count = tf.util.sizeFromShape(segmentIds.shape);
  const out = wasm.makeOutput(outShape, x.dtype);
  const dst = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const src = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array;
  dst.fill(0);
  for (let i = 0; i < count; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const from = i * inner;
    const to = s * inner;
    for (let j = 0; j < inner; j++) dst[to + j] += src[from + j];
  }
  return out;
};
