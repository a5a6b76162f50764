import * as tf from '@tensorflow/tfjs-core';
import { fusedFor, pointer } from '../fused/fused-module';
import { FUSED } from './fused-names';
import { assertFloat32, assertSameShape, requireInputs, type WasmBackend } from './kernel-utils';

/** `[rows, cols]` of a tensor normalised over its last axis, checking that `gamma` has `cols` values. */
function rowsCols(kernel: string, x: tf.TensorInfo, gamma: tf.TensorInfo): [number, number] {
  const cols = x.shape[x.shape.length - 1] ?? 1;
  if (tf.util.sizeFromShape(gamma.shape) !== cols) {
    throw new Error(`vpeft wasm ${kernel}: gamma has ${tf.util.sizeFromShape(gamma.shape)} values, the last axis of [${x.shape}] ${cols}`);
  }
  return [cols === 0 ? 0 : tf.util.sizeFromShape(x.shape) / cols, cols];
}

/**
 * LayerNorm over the last axis in one SIMD pass per row (native/fused.c): `y = γ·x̂ + β`, with the
 * normalised input `x̂` and `rstd = 1/√(σ² + eps)` (shape `[..., 1]`) the gradient needs.
 */
export const layerNorm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = requireInputs(FUSED.layerNorm, inputs, 'x', 'gamma', 'beta');
  assertFloat32(FUSED.layerNorm, x, gamma, beta);
  assertSameShape(FUSED.layerNorm, gamma, beta);
  const [rows, cols] = rowsCols(FUSED.layerNorm, x, gamma);
  const { epsilon } = attrs as { epsilon: number };
  const wasm = backend as WasmBackend;
  const y = wasm.makeOutput(x.shape, 'float32');
  const xhat = wasm.makeOutput(x.shape, 'float32');
  const rstd = wasm.makeOutput([...x.shape.slice(0, -1), 1], 'float32');
  if (rows * cols > 0) {
    const p = (info: tf.TensorInfo) => pointer(wasm, info);
    fusedFor(wasm).layer_norm(p(x), p(gamma), p(beta), p(y), p(xhat), p(rstd), rows, cols, epsilon);
  }
  return [y, xhat, rstd];
};

/**
 * LayerNorm's gradient in one pass per row: `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))` with `g = dy·γ`,
 * and `dγ = Σ dy·x̂`, `dβ = Σ dy` over every row.
 */
export const layerNormGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, xhat, rstd, gamma } = requireInputs(FUSED.layerNormGrad, inputs, 'dy', 'xhat', 'rstd', 'gamma');
  assertFloat32(FUSED.layerNormGrad, dy, xhat, rstd, gamma);
  assertSameShape(FUSED.layerNormGrad, dy, xhat);
  const [rows, cols] = rowsCols(FUSED.layerNormGrad, dy, gamma);
  if (tf.util.sizeFromShape(rstd.shape) !== rows) {
    throw new Error(`vpeft wasm ${FUSED.layerNormGrad}: rstd has ${tf.util.sizeFromShape(rstd.shape)} values, expected one per row (${rows})`);
  }
  const wasm = backend as WasmBackend;
  const dx = wasm.makeOutput(dy.shape, 'float32');
  const dgamma = wasm.makeOutput(gamma.shape, 'float32');
  const dbeta = wasm.makeOutput(gamma.shape, 'float32');
  const p = (info: tf.TensorInfo) => pointer(wasm, info);
  fusedFor(wasm).layer_norm_grad(p(dy), p(xhat), p(rstd), p(gamma), p(dx), p(dgamma), p(dbeta), rows, cols);
  return [dx, dgamma, dbeta];
};
