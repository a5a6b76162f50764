import * as tf from '@tensorflow/tfjs-core';

/**
 * Names of one-pass kernels that a backend package may register (tfjs `registerKernel`) to compute
 * {@link gelu}, {@link layerNorm} and {@link qkvAttention} and their gradients; where the active backend has none, core
 * composes tfjs ops. Core holds no kernel: `@vpeft/backend-wasm` registers these for wasm.
 * - `gelu`: inputs `x` → `0.5·x·(1 + erf(x/√2))`; `geluGrad`: inputs `dy`, `x` → `dy·(Φ(x) + x·φ(x))`.
 * - `layerNorm`: inputs `x`, `gamma`, `beta`, attr `epsilon` → `y`, `xhat`, `rstd` (`[..., 1]`), over the last axis;
 *   `layerNormGrad`: inputs `dy`, `xhat`, `rstd`, `gamma` → `dx`, `dgamma`, `dbeta`.
 * - `qkvAttention`: input `qkv` `[B, N, 3·d]`, attr `heads` → the context `[B, N, d]` and the softmax
 *   probabilities `[B·heads, N, N]` (see {@link qkvAttention} for the layout);
 *   `qkvAttentionGrad`: inputs `dcontext` `[B, N, d]`, `qkv`, `probs`, attr `heads` → `dqkv` `[B, N, 3·d]`.
 */
export const FUSED_KERNELS = {
  gelu: 'VpeftGelu',
  geluGrad: 'VpeftGeluGrad',
  layerNorm: 'VpeftLayerNorm',
  layerNormGrad: 'VpeftLayerNormGrad',
  qkvAttention: 'VpeftQkvAttention',
  qkvAttentionGrad: 'VpeftQkvAttentionGrad',
} as const;

/** Whether the active backend registers kernel `name` and every tensor is float32 (the kernels' one dtype). */
export function hasFusedKernel(name: string, ...tensors: tf.Tensor[]): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined && tensors.every((t) => t.dtype === 'float32');
}

/** Runs kernel `name` through the engine (outside a gradient tape: callers are custom gradients). */
export function runFusedKernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
}
