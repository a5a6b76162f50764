import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { assertFloat32, callKernel, f32, release, requireInputs, view, zeros, type WasmBackend } from './kernel-utils';
import { fusedFor, fusedModuleSupported, pointer } from '../fused/fused-module';
import { transposedOperand } from './transposed-operands';
import { dropWindow, productInto, window, type Epilogue } from './xnn-product';

/**
 * Below this many multiply-adds per batch slice the stock kernel's plain loop beats the set-up cost
 * of an XNNPACK operator and the copies of the fast path (about 6 us per slice; measured crossover
 * near 20x20x20 on a 2-core x86 machine). Used only where the stock kernel is correct (equal batch
 * sizes) and would not itself go to XNNPACK.
 */
export const STOCK_MAX_MACS_PER_SLICE = 20 * 20 * 20;

/** The shapes a batched product works on, after resolving transposes and batch broadcasting. */
export interface MatMulPlan {
  /** Rows of the (transposed) left operand. */
  m: number;
  /** The shared dimension. */
  k: number;
  /** Columns of the (transposed) right operand. */
  n: number;
  /** Batch sizes of the left and right operands (products of their leading dimensions). */
  batchA: number;
  batchB: number;
  /** The broadcast batch shape and its size. */
  outBatchShape: number[];
  outBatch: number;
  /** The output shape, `[...outBatchShape, m, n]`. */
  outShape: number[];
}

/** Validates a BatchMatMul's operands and computes its {@link MatMulPlan}. */
export function planMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`vpeft wasm BatchMatMul: operands must have rank >= 2, got [${aShape}] and [${bShape}]`);
  }
  const ra = aShape.length;
  const rb = bShape.length;
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kB = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (k !== kB) {
    throw new Error(
      `vpeft wasm BatchMatMul: inner dimensions ${k} and ${kB} of shapes [${aShape}] and [${bShape}] ` +
        `(transposeA=${transposeA}, transposeB=${transposeB}) must match`,
    );
  }
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
  return {
    m,
    k,
    n,
    batchA: tf.util.sizeFromShape(aShape.slice(0, -2)),
    batchB: tf.util.sizeFromShape(bShape.slice(0, -2)),
    outBatchShape,
    outBatch: tf.util.sizeFromShape(outBatchShape),
    outShape: [...outBatchShape, m, n],
  };
}

/** For each flat output batch index, the flat batch index into an operand with `batchShape` (broadcasting). */
export function broadcastBatchIndex(outBatchShape: number[], batchShape: number[]): (o: number) => number {
  const rank = outBatchShape.length;
  const padded = [...new Array<number>(rank - batchShape.length).fill(1), ...batchShape];
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : stride;
    stride *= padded[d];
  }
  return (o: number) => {
    let index = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const size = outBatchShape[d];
      index += (o % size) * strides[d];
      o = Math.floor(o / size);
    }
    return index;
  };
}

/** The `K x N` each weights tensor id was first multiplied with (XNNPACK's operator cache is keyed by id only). */
const weightSignatures = new WeakMap<object, string>();

/** A fresh copy of `src`'s elements `[offset, offset + size(shape))` with `shape`. */
export function copyRange(backend: WasmBackend, src: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, src.dtype);
  const size = tf.util.sizeFromShape(shape);
  f32(backend, out).set(f32(backend, src).subarray(offset, offset + size));
  return out;
}

/**
 * Returns `b` itself when its id is safe to use as XNNPACK weights of shape `[1, K, N]`, else a fresh
 * copy (set `owned`): a reshape shares the id, and XNNPACK would reuse an operator packed for
 * another shape and silently compute garbage.
 */
export function guardWeights(backend: WasmBackend, b: tf.TensorInfo): { b: tf.TensorInfo; owned: boolean } {
  const signature = `${b.shape[1]}x${b.shape[2]}`;
  const seen = weightSignatures.get(b.dataId);
  if (seen === undefined) {
    weightSignatures.set(b.dataId, signature);
    return { b, owned: false };
  }
  if (seen === signature) return { b, owned: false };
  return { b: copyRange(backend, b, 0, b.shape), owned: true };
}

function transpose(backend: WasmBackend, x: tf.TensorInfo, shape: number[], perm: number[]): tf.TensorInfo {
  return callKernel('Transpose', backend, { x: view(x, shape) }, { perm });
}

/**
 * How {@link fastBatchMatMul} computes a product: `native`, a 2-D product with no activation (a bias
 * of length N is added) by vpeft's own wasm SIMD kernel (`matmul` in native/fused.c: reads its right operand
 * unpacked and a transposed left operand in place; see {@link nativeProduct}); `shared-right`, a
 * right operand of batch 1 with the left operand's batch folded into M (one XNNPACK product);
 * `swapped`, a 2-D `Aᵀ·B` much wider than tall computed as `(Bᵀ·A)ᵀ` (see {@link SWAP_MIN_RATIO});
 * `shared-left`, a left operand of batch 1 with the right operand's batch folded into N (one product,
 * then a transpose of the output); `native-slices`, one product per output batch slice by the native
 * kernel, for products with no bias or activation where the fused module runs; `per-slice`, one
 * XNNPACK product per output batch slice. `stock` is the stock kernel's loop (tiny products, see
 * {@link preferStock}), chosen by the BatchMatMul kernel only.
 */
export type MatMulRoute = 'stock' | 'native' | 'shared-right' | 'swapped' | 'shared-left' | 'native-slices' | 'per-slice';

/**
 * A 2-D product whose shortest side is at most this goes to the native kernel even where XNNPACK runs
 * threads: LoRA's rank-r products (r·k columns, k factors stacked). XNNPACK packs its right operand
 * for every tensor it has not seen (any gradient, any freshly stacked factor) at 15-50 ns per element,
 * which costs more than such a product; the native kernel reads it as it is. Measured on ViT-Ti's LoRA
 * r=8 q,v shapes (one thread, x86): 1.5-3x XNNPACK's time per call.
 */
export const NATIVE_THIN_MAX = 16;

/** Whether tfjs's wasm backend runs XNNPACK on one thread (false when unknown: not initialised yet). */
function singleThreaded(): boolean {
  try {
    return getThreadsCount() <= 1;
  } catch {
    return false;
  }
}

/**
 * Whether a 2-D product with no activation (with or without a bias of length N) goes to the native kernel: where the fused
 * module runs, every such product on one thread (it matches or beats XNNPACK's rate even on a packed
 * weight: ViT-Ti's qkv and fc2 shapes 34-40 against 29-30 GFLOP/s, and needs no transpose of a
 * transposed left operand), and thin ones ({@link NATIVE_THIN_MAX}) with threads too (XNNPACK's
 * threads win on large products).
 */
export function nativeProduct(plan: MatMulPlan): boolean {
  if (plan.batchA !== 1 || plan.batchB !== 1 || !fusedModuleSupported()) return false;
  return Math.min(plan.m, plan.k, plan.n) <= NATIVE_THIN_MAX || singleThreaded();
}

/**
 * XNNPACK packs the right operand of every product it has not seen (a fresh tensor: any gradient)
 * at 15-50 ns per element, against 1-2 ns per multiply-add for the product itself: packing B
 * `[K, N]` of `Aᵀ·B` costs more than the product when M is small (LoRA's `downᵀ·dUp`: M = 16,
 * K = 1,576, N = 576 packs in ~25 ms, multiplies in ~2 ms). From N >= this ratio times M, the product
 * is computed as `(Bᵀ·A)ᵀ`: A `[K, M]` is then the packed operand, in the layout it already has, for
 * the price of transposing B and the `[N, M]` result (~2-4 ns per element).
 */
export const SWAP_MIN_RATIO = 4;

/**
 * The {@link MatMulRoute} of {@link fastBatchMatMul} for `plan` (never `stock`); `columnwise` is
 * false for a product that adds a per-column bias (its output columns must be N columns), `linear`
 * true for one without a clamp activation (the native kernel adds a bias, but applies none).
 */
export function fastRoute(
  plan: MatMulPlan,
  transposeA: boolean,
  transposeB: boolean,
  columnwise = true,
  linear = true,
): Exclude<MatMulRoute, 'stock'> {
  const plain2D = plan.batchA === 1 && plan.batchB === 1;
  if (linear && nativeProduct(plan)) return 'native';
  if (plain2D && columnwise && transposeA && !transposeB && plan.n >= SWAP_MIN_RATIO * plan.m) return 'swapped';
  if (plan.batchB === 1) return 'shared-right';
  if (plan.batchA === 1 && columnwise) return 'shared-left';
  return linear && columnwise && fusedModuleSupported() ? 'native-slices' : 'per-slice';
}

/**
 * A batched matrix product computed as a few large products: a 2-D one with no clamp activation by
 * the native kernel (adding the bias if any) where {@link nativeProduct} says so, else by XNNPACK. Transposes are materialised
 * with the wasm Transpose kernel (a transposed right operand of batch 1 is kept across calls, see
 * {@link transposedOperand}); a right operand shared by every batch (batch 1) has the left
 * operand's batch folded into M; a left operand of batch 1 has the right operand's batch folded into
 * N, and a wide `Aᵀ·B` is computed as `(Bᵀ·A)ᵀ` (neither with a bias: it is added per column);
 * otherwise one product per output batch slice, each reading its operands' slices and writing its
 * output slice in place ({@link window}s, no copies). Every product applies `epilogue` inside
 * XNNPACK. Returns a new tensor info of the broadcast output shape; the inputs are untouched.
 */
export function fastBatchMatMul(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  epilogue: Epilogue,
): tf.TensorInfo {
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const { m, k, n, batchA, batchB, outBatch, outShape } = plan;
  if (m * n * outBatch === 0) return backend.makeOutput(outShape, 'float32');
  if (k === 0) return zeros(backend, outShape);

  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => (temps.push(t), t);
  /** One product [rows, K] x [K, cols] of the caller's (or kept) operands into a new [rows, cols]. */
  const run = (a2: tf.TensorInfo, b2: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo => {
    const guarded = guardWeights(backend, view(b2, [1, k, cols]));
    if (guarded.owned) temps.push(guarded.b);
    const out = backend.makeOutput([rows, cols], 'float32');
    productInto(backend, a2, guarded.b, out, rows, k, cols, epilogue);
    return out;
  };
  const route = fastRoute(plan, transposeA, transposeB, epilogue.bias === undefined, epilogue.activation === 'linear');
  try {
    if (route === 'native') {
      // a [M, K] (or [K, M] read in place) · b [K, N] unpacked; a transposed b is kept like XNNPACK's.
      let b2 = b;
      if (transposeB) {
        const held = transposedOperand(backend, b, n, k);
        b2 = held.owned ? keep(held.bt) : held.bt;
      }
      const out = backend.makeOutput(outShape, 'float32');
      const [pa, pb, pc, ta] = [pointer(backend, a), pointer(backend, b2), pointer(backend, out), transposeA ? 1 : 0];
      const kernels = fusedFor(backend);
      if (epilogue.bias === undefined) kernels.matmul(pa, pb, pc, m, k, n, ta);
      else kernels.matmul_bias(pa, pb, pointer(backend, epilogue.bias), pc, m, k, n, ta);
      return out;
    }
    if (route === 'shared-right') {
      // Shared right operand: [batchA * M, K] x [K, N].
      const a3 = transposeA ? keep(transpose(backend, a, [batchA, k, m], [0, 2, 1])) : a;
      let b2 = b;
      if (transposeB) {
        // Kept across calls (a frozen weight's dY·Wᵀ): XNNPACK then packs it once, not every call.
        const held = transposedOperand(backend, b, n, k);
        b2 = held.owned ? keep(held.bt) : held.bt;
      }
      const out = run(a3, b2, batchA * m, n);
      return { ...out, shape: outShape };
    }
    if (route === 'swapped') {
      // Aᵀ·B = (Bᵀ·A)ᵀ: A [K, M] is the packed right operand as it is; B and the result are transposed.
      const bt = keep(transpose(backend, b, [k, n], [1, 0]));
      const wide = keep(run(bt, a, n, m));
      const out = transpose(backend, wide, [n, m], [1, 0]);
      return { ...out, shape: outShape };
    }
    if (route === 'shared-left') {
      // Shared left operand: [M, K] x [K, batchB * N], then [M, batchB, N] -> [batchB, M, N].
      const a2 = transposeA ? keep(transpose(backend, a, [k, m], [1, 0])) : a;
      const bk = transposeB
        ? keep(transpose(backend, b, [batchB, n, k], [2, 0, 1]))
        : keep(transpose(backend, b, [batchB, k, n], [1, 0, 2]));
      const wide = keep(run(a2, bk, m, batchB * n));
      const out = transpose(backend, wide, [m, batchB, n], [1, 0, 2]);
      return { ...out, shape: outShape };
    }
    // Both operands batched: one product per output slice (the native kernel reads a transposed left
    // operand in place), on windows onto the operands and the output for XNNPACK.
    const native = route === 'native-slices';
    const a3 = transposeA && !native ? keep(transpose(backend, a, [batchA, k, m], [0, 2, 1])) : a;
    const b3 = transposeB ? keep(transpose(backend, b, [batchB, n, k], [0, 2, 1])) : b;
    const indexA = broadcastBatchIndex(plan.outBatchShape, a.shape.slice(0, -2));
    const indexB = broadcastBatchIndex(plan.outBatchShape, b.shape.slice(0, -2));
    const out = backend.makeOutput(outShape, 'float32');
    if (native) {
      const kernels = fusedFor(backend);
      const [pa, pb, pc] = [pointer(backend, a3), pointer(backend, b3), pointer(backend, out)];
      for (let o = 0; o < outBatch; o++) {
        kernels.matmul(pa + 4 * indexA(o) * m * k, pb + 4 * indexB(o) * k * n, pc + 4 * o * m * n, m, k, n, transposeA ? 1 : 0);
      }
      return out;
    }
    for (let o = 0; o < outBatch; o++) {
      // Fresh window ids: XNNPACK packs each b slice for its product and drops it with the window.
      const aSlice = window(backend, a3, indexA(o) * m * k, [1, m, k]);
      const bSlice = window(backend, b3, indexB(o) * k * n, [1, k, n]);
      const outSlice = window(backend, out, o * m * n, [1, m, n]);
      try {
        productInto(backend, aSlice, bSlice, outSlice, m, k, n, epilogue);
      } finally {
        dropWindow(backend, aSlice);
        dropWindow(backend, bSlice);
        dropWindow(backend, outSlice);
      }
    }
    return out;
  } finally {
    release(backend, ...temps);
  }
}

/**
 * Whether the stock kernel is both correct and the faster choice: equal batch sizes, tiny slices, and
 * not the case where the stock kernel would hand the caller's right operand to XNNPACK unguarded.
 */
export function preferStock(plan: MatMulPlan, transposeA: boolean, transposeB: boolean): boolean {
  const stockUsesXnnpack = !transposeA && !transposeB && plan.batchA === 1 && plan.batchB === 1;
  return !stockUsesXnnpack && plan.batchA === plan.batchB && plan.m * plan.k * plan.n <= STOCK_MAX_MACS_PER_SLICE;
}

/** The {@link MatMulRoute} the BatchMatMul kernel takes for `plan`. */
export function batchMatMulRoute(plan: MatMulPlan, transposeA: boolean, transposeB: boolean): MatMulRoute {
  return preferStock(plan, transposeA, transposeB) ? 'stock' : fastRoute(plan, transposeA, transposeB);
}

/**
 * The BatchMatMul kernel function for wasm: {@link fastBatchMatMul}, or the stock kernel alone for
 * tiny products.
 */
export function makeBatchMatMulKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = requireInputs('BatchMatMul', inputs, 'a', 'b');
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as unknown as Partial<tf.BatchMatMulAttrs>;
    assertFloat32('BatchMatMul', a, b);
    const wasm = backend as WasmBackend;
    if (batchMatMulRoute(planMatMul(a.shape, b.shape, transposeA, transposeB), transposeA, transposeB) === 'stock') {
      return stock({ inputs, backend, attrs });
    }
    return fastBatchMatMul(wasm, a, b, transposeA, transposeB, { activation: 'linear' });
  };
}
