import * as tf from '@tensorflow/tfjs-core';
import { requireInputs, type WasmBackend } from './kernel-utils';

/** Below this many elements a run is copied element by element (cheaper than a subarray view). */
const SHORT_RUN = 16;

/**
 * Copies `count` elements from `src[srcIndex]` to `dst[dstIndex]`. Two views onto one buffer (two
 * tensors on the wasm heap) copy with the byte view's `copyWithin`: one monomorphic memmove, where
 * `dst.set(src.subarray(...))` allocates a view per run and, called with float32, int32 and bool
 * arrays, runs V8's generic path (tfjs's own Concat took 2-10 ms for a [8, 197, 3x192] join this way).
 */
export function copyRun(src: tf.TypedArray, srcIndex: number, dst: tf.TypedArray, dstIndex: number, count: number, bytes?: Uint8Array): void {
  if (bytes !== undefined) {
    const size = src.BYTES_PER_ELEMENT;
    const from = src.byteOffset + srcIndex * size;
    bytes.copyWithin(dst.byteOffset + dstIndex * size, from, from + count * size);
  } else if (count >= SHORT_RUN) {
    dst.set(src.subarray(srcIndex, srcIndex + count), dstIndex);
  } else {
    for (let i = 0; i < count; i++) dst[dstIndex + i] = src[srcIndex + i]!;
  }
}

/** A byte view of the buffer `src` and `dst` share (for {@link copyRun}), or undefined when they share none. */
export function sharedBytes(src: tf.TypedArray, dst: tf.TypedArray): Uint8Array | undefined {
  return src.buffer === dst.buffer && src.BYTES_PER_ELEMENT === dst.BYTES_PER_ELEMENT ? new Uint8Array(src.buffer) : undefined;
}

/**
 * Copies the box `begin .. begin + size` of a row-major array of `shape` into `dst` (densely).
 * Trailing axes taken whole are merged into one contiguous run, so the loop visits one run per
 * index of the leading axes: a split of `[B, N, 3D]` into three `[B, N, D]` copies B·N runs of D.
 */
export function copyBox(src: tf.TypedArray, shape: number[], dst: tf.TypedArray, begin: number[], size: number[]): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0]!;
    return;
  }
  let inner = rank - 1;
  let run = size[inner]!;
  let stride = 1;
  // Merge axes taken whole into the run: axis `inner` is the outermost axis the run spans.
  while (inner > 0 && size[inner] === shape[inner]) {
    stride *= shape[inner]!;
    inner--;
    run = size[inner]! * stride;
  }
  const strides = tf.util.computeStrides(shape);
  const elementStride = (axis: number) => (axis === rank - 1 ? 1 : strides[axis]!);
  let base = 0;
  for (let axis = 0; axis < rank; axis++) base += begin[axis]! * elementStride(axis);
  const runs = tf.util.sizeFromShape(size.slice(0, inner));
  const index = new Array<number>(inner).fill(0);
  let offset = base;
  const bytes = sharedBytes(src, dst);
  for (let r = 0, out = 0; r < runs; r++, out += run) {
    copyRun(src, offset, dst, out, run, bytes);
    // Odometer over the leading axes.
    for (let axis = inner - 1; axis >= 0; axis--) {
      offset += elementStride(axis);
      if (++index[axis]! < size[axis]!) break;
      offset -= index[axis]! * elementStride(axis);
      index[axis] = 0;
    }
  }
}

function sliceInfo(backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  // Both views after the allocation (heap growth detaches earlier views); reading x through a view,
  // not readSync, which copies the whole input on every call.
  copyBox(backend.typedArrayFromHeap(x), x.shape, backend.typedArrayFromHeap(out), begin, size);
  return out;
}

/**
 * `Slice` for wasm: the stock kernel reads its input with `readSync` (a copy of the whole tensor)
 * on every call before copying the box out; this one copies only the box, in contiguous runs.
 * Strings go to the stock kernel.
 */
export function makeSliceKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = requireInputs('Slice', args.inputs, 'x');
    if (x.dtype === 'string') return stock(args);
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceInfo(args.backend as WasmBackend, x, begin_, size_);
  };
}

/** `SplitV` for wasm: the fast slice per output (the stock one calls the stock slice, a full copy each). */
export function makeSplitVKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = requireInputs('SplitV', args.inputs, 'x');
    if (x.dtype === 'string') return stock(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[$axis] = s;
      const out = sliceInfo(args.backend as WasmBackend, x, begin, size);
      begin[$axis]! += s;
      return out;
    });
  };
}

/** `Unpack` (`tf.unstack`) for wasm: one fast slice per index along the axis, reshaped to drop it. */
export function makeUnpackKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { value } = requireInputs('Unpack', args.inputs, 'value');
    if (value.dtype === 'string') return stock(args);
    const { axis } = args.attrs as unknown as tf.UnpackAttrs;
    const $axis = tf.util.parseAxisParam(axis, value.shape)[0]!;
    const count = value.shape[$axis]!;
    const outShape = value.shape.filter((_, i) => i !== $axis);
    const begin = new Array<number>(value.shape.length).fill(0);
    const size = [...value.shape];
    size[$axis] = 1;
    return Array.from({ length: count }, (_, i) => {
      begin[$axis] = i;
      const out = sliceInfo(args.backend as WasmBackend, value, begin, size);
      return { ...out, shape: outShape };
    });
  };
}
