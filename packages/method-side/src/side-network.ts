import * as tf from '@tensorflow/tfjs-core';
import { gelu, layerNorm, linear, qkvAttention, VpeftError } from '@vpeft/core';

/** A linear layer's variables (weight `[in, out]`, bias `[out]`). */
export interface LinearParams {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
}

/** A LayerNorm's variables. */
export interface NormParams {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
}

/** One side block: pre-norm attention (absent for an `mlp` ladder) and a pre-norm MLP, both residual. */
export interface SideBlockParams {
  readonly attention?: { readonly norm: NormParams; readonly qkv: LinearParams; readonly proj: LinearParams; readonly heads: number };
  readonly norm: NormParams;
  readonly fc1: LinearParams;
  readonly fc2: LinearParams;
}

const EPS = 1e-6;

/** `x·W + b` over the last axis of `[B, N, in]`. */
export function tokenLinear(x: tf.Tensor3D, params: LinearParams): tf.Tensor3D {
  const [b, n, d] = x.shape;
  const out = linear(tf.reshape(x, [b * n, d]), params.weight as tf.Tensor2D, params.bias as tf.Tensor1D);
  return tf.reshape(out, [b, n, out.shape[1]]);
}

function norm(x: tf.Tensor, params: NormParams): tf.Tensor3D {
  return layerNorm(x, params.weight as tf.Tensor1D, params.bias as tf.Tensor1D, EPS) as tf.Tensor3D;
}

/**
 * A tap's value as side-network tokens `[B, N, C]`: token sequences as they are, NHWC maps pooled
 * to one token (their global average), as a side ladder over a CNN reads one vector per block, and
 * flat `[B, C]` values (a CNN's pooled features) as one token.
 */
export function tapTokens(x: tf.Tensor, site: string): tf.Tensor3D {
  if (x.rank === 3) return x as tf.Tensor3D;
  if (x.rank === 2) return x.reshape([x.shape[0]!, 1, x.shape[1]!]);
  if (x.rank === 4) return tf.mean(x, [1, 2], true).reshape([x.shape[0]!, 1, x.shape[3]!]);
  throw new VpeftError(`side: tap ${site} gave a rank-${x.rank} value; the side network reads tokens [B, N, C], NHWC maps or [B, C] vectors`);
}

/** A pre-norm transformer block of the side width (or its MLP half): `h + attn(LN(h))`, then `h + mlp(LN(h))`. */
export function sideBlock(h: tf.Tensor3D, params: SideBlockParams): tf.Tensor3D {
  let x = h;
  if (params.attention) {
    const { norm: n1, qkv, proj, heads } = params.attention;
    // Attention read straight from the qkv output (one kernel on wasm, composed ops elsewhere).
    x = tf.add(x, tokenLinear(qkvAttention(tokenLinear(norm(x, n1), qkv), heads), proj));
  }
  const hidden = gelu(tokenLinear(norm(x, params.norm), params.fc1)) as tf.Tensor3D;
  return tf.add(x, tokenLinear(hidden, params.fc2));
}

/** LST's gate `sigmoid(α / T)`. */
export function gate(alpha: tf.Variable, temperature: number): tf.Tensor {
  return tf.sigmoid(tf.div(alpha, temperature));
}

/** Gated fusion `g·a + (1 − g)·b`. */
export function gatedSum(g: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(g, a), tf.mul(tf.sub(1, g), b));
}

/** Final side norm on the pooled side tokens: the CLS token when the sequence has one, else their mean. */
export function poolSide(h: tf.Tensor3D, params: NormParams, first: boolean): tf.Tensor2D {
  const normed = norm(h, params);
  const [b, , d] = normed.shape;
  return (first ? tf.reshape(tf.slice(normed, [0, 0, 0], [b, 1, d]), [b, d]) : tf.mean(normed, 1)) as tf.Tensor2D;
}
