import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '../errors/errors';
import type { AttentionInputs } from '../sites/site';

/**
 * Multi-head scaled dot-product attention, `softmax(q·kᵀ / √headDim)·v` per head, for q `[B, H, N, hd]`
 * and k, v `[B, H, M, hd]` (M may differ from N, e.g. with prefix keys). Returns the heads' context
 * merged back to `[B, N, H·hd]`. The ViT's `attention` sites run it as their original op; side
 * networks reuse it for their own blocks.
 */
export function multiHeadAttention({ q, k, v }: AttentionInputs): tf.Tensor3D {
  const [b, heads, n, hd] = q.shape;
  const m = k.shape[2];
  if (k.shape[0] !== b || k.shape[1] !== heads || k.shape[3] !== hd || v.shape.join(',') !== k.shape.join(',')) {
    throw new VpeftError(`attention: q [${q.shape.join(', ')}], k [${k.shape.join(', ')}] and v [${v.shape.join(', ')}] do not fit [B, H, tokens, headDim]`);
  }
  // Batched matmuls on rank 3 (tfjs reshapes rank 4 to this anyway); the reshapes are free.
  const scores = tf.matMul(tf.mul(tf.reshape(q, [b * heads, n, hd]), 1 / Math.sqrt(hd)), tf.reshape(k, [b * heads, m, hd]), false, true);
  const context = tf.matMul(tf.softmax(scores), tf.reshape(v, [b * heads, m, hd]));
  return tf.reshape(tf.transpose(tf.reshape(context, [b, heads, n, hd]), [0, 2, 1, 3]), [b, n, heads * hd]);
}

/**
 * Splits a token sequence `[B, N, H·hd]` into heads `[B, H, N, hd]` (the inverse of the merge at the
 * end of {@link multiHeadAttention}).
 */
export function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [b, n, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, n, heads, d / heads]), [0, 2, 1, 3]);
}
