import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulRoute, fastBatchMatMul, fastRoute, planMatMul, type MatMulPlan, type MatMulRoute } from './batch-matmul';
import { assertFloat32, callKernel, release, type WasmBackend } from './kernel-utils';
import type { Epilogue } from './xnn-product';

/** Activations XNNPACK applies inside the product (as an output clamp). */
const CLAMP_ACTIVATIONS = new Set<string>(['linear', 'relu', 'relu6'] satisfies Array<Epilogue['activation']>);

/** Applies a fused activation after the product, with the wasm kernels; takes ownership of `x`. */
function activate(
  backend: WasmBackend,
  x: tf.TensorInfo,
  activation: string,
  preluWeights: tf.TensorInfo | undefined,
  leakyreluAlpha: number,
): tf.TensorInfo {
  let out: tf.TensorInfo;
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      out = callKernel('Relu', backend, { x });
      break;
    case 'relu6':
      out = callKernel('Relu6', backend, { x });
      break;
    case 'elu':
      out = callKernel('Elu', backend, { x });
      break;
    case 'sigmoid':
      out = callKernel('Sigmoid', backend, { x });
      break;
    case 'leakyrelu':
      out = callKernel('LeakyRelu', backend, { x }, { alpha: leakyreluAlpha });
      break;
    case 'prelu':
      if (preluWeights === undefined) throw new Error('vpeft wasm _FusedMatMul: prelu activation needs preluActivationWeights');
      out = callKernel('Prelu', backend, { x, alpha: preluWeights });
      break;
    default:
      release(backend, x);
      throw new Error(`vpeft wasm _FusedMatMul: unsupported activation ${JSON.stringify(activation)}`);
  }
  release(backend, x);
  return out;
}

/**
 * How the `_FusedMatMul` kernel computes a product: with the bias (rank 1, length N, or none) and a
 * linear/relu/relu6 activation fused into the XNNPACK products (`fused`), else as the BatchMatMul
 * kernel followed by the wasm Add and activation kernels.
 */
export function fusedMatMulRoute(
  plan: MatMulPlan,
  transposeA: boolean,
  transposeB: boolean,
  biasShape: number[] | undefined,
  activation: string,
): { route: MatMulRoute; fused: boolean } {
  const biasFusable = biasShape === undefined || (biasShape.length === 1 && biasShape[0] === plan.n);
  if (biasFusable && CLAMP_ACTIVATIONS.has(activation)) return { route: fastRoute(plan, transposeA, transposeB, biasShape === undefined, activation === 'linear'), fused: true };
  return { route: batchMatMulRoute(plan, transposeA, transposeB), fused: false };
}

/**
 * The `_FusedMatMul` kernel function for wasm (used by `tf.fused.matMul`). The stock kernel only
 * uses XNNPACK for untransposed batch-1 operands and its fallback loop adds a rank-1 bias wrongly
 * for all rows but the first. Here: a rank-1 bias of length N with a linear/relu/relu6 activation is
 * fused into each 2-D XNNPACK product of {@link fastBatchMatMul}; anything else is the fast product
 * followed by the wasm Add (broadcasting bias) and activation kernels.
 */
export function makeFusedMatMulKernel(): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs as unknown as tf._FusedMatMulInputs;
    const {
      transposeA = false,
      transposeB = false,
      activation = 'linear',
      leakyreluAlpha = 0.2,
    } = (attrs ?? {}) as unknown as Partial<tf._FusedMatMulAttrs>;
    assertFloat32('_FusedMatMul', a, b, bias ?? undefined, preluActivationWeights ?? undefined);
    const wasm = backend as WasmBackend;
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    // An empty shared dimension (k = 0) leaves the product zero: the bias and activation still apply, below.
    if (plan.k > 0 && fusedMatMulRoute(plan, transposeA, transposeB, bias?.shape, activation).fused) {
      const epilogue = { bias: bias ?? undefined, activation: activation as Epilogue['activation'] };
      return fastBatchMatMul(wasm, a, b, transposeA, transposeB, epilogue);
    }

    let y = callKernel('BatchMatMul', wasm, { a, b }, { transposeA, transposeB });
    if (bias != null) {
      const withBias = callKernel('Add', wasm, { a: y, b: bias });
      release(wasm, y);
      y = withBias;
    }
    return activate(wasm, y, activation, preluActivationWeights ?? undefined, leakyreluAlpha);
  };
}
