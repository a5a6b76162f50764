/**
 * Names of vpeft's one-pass kernels. `@vpeft/core`'s `gelu`, `layerNorm` and `qkvAttention` run the kernels of these
 * names when the active backend registers them (else tfjs's composed ops): keep them equal to core's
 * `FUSED_KERNELS` (core's tests check that the wasm backend registers every one).
 */
export const FUSED = {
  /** Exact GELU: inputs `x`; output `0.5·x·(1 + erf(x/√2))`. */
  gelu: 'VpeftGelu',
  /** GELU's gradient: inputs `dy`, `x`; output `dy·(Φ(x) + x·φ(x))`. */
  geluGrad: 'VpeftGeluGrad',
  /** LayerNorm over the last axis: inputs `x`, `gamma`, `beta`, attr `epsilon`; outputs `y`, `xhat`, `rstd` (`[..., 1]`). */
  layerNorm: 'VpeftLayerNorm',
  /** LayerNorm's gradient: inputs `dy`, `xhat`, `rstd`, `gamma`; outputs `dx`, `dgamma`, `dbeta`. */
  layerNormGrad: 'VpeftLayerNormGrad',
  /** Softmax's gradient over the last axis: inputs `y` (softmax's output), `dy`; output `(dy − Σ dy·y)·y`. */
  softmaxGrad: 'VpeftSoftmaxGrad',
  /**
   * Multi-head attention on the qkv layout: inputs `qkv` `[B, N, 3·d]`, attr `heads`; outputs the context
   * `[B, N, d]` and the softmax probabilities `[B·heads, N, N]`.
   */
  qkvAttention: 'VpeftQkvAttention',
  /** Its gradient: inputs `dcontext` `[B, N, d]`, `qkv`, `probs`, attr `heads`; output `dqkv` `[B, N, 3·d]`. */
  qkvAttentionGrad: 'VpeftQkvAttentionGrad',
} as const;
