import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '../errors/errors';
import type { AttentionInputs } from '../sites/site';

/**
 * Multi-head scaled dot-product attention, `softmax(q·kᵀ / √headDim)·v` per head, for q `[B, H, N, hd]`
 * and k, v `[B, H, M, hd]` (M may differ from N, e.g. with prefix keys). Returns the heads' context
 * merged back to `[B, N, H·hd]`. The ViT's `attention` sites run it as their original op (where no
 * transform is attached the ViT runs `qkvAttention` instead, which computes the same on the qkv layout).
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
  return mergeHeads(context, b, heads);
}

/**
 * Splits a token sequence `[B, N, H·hd]` into heads `[B, H, N, hd]` (the inverse of {@link mergeHeads}).
 */
export function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [b, n, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, n, heads, d / heads]), [0, 2, 1, 3]);
}

/**
 * Merges the `heads` heads `[B·H, N, hd]` (or `[B, H, N, hd]`) of `batch` images back into a token
 * sequence `[B, N, H·hd]` (the inverse of {@link splitHeads}).
 */
export function mergeHeads(x: tf.Tensor, batch: number, heads: number): tf.Tensor3D {
  const [n, hd] = x.shape.slice(-2) as [number, number];
  return tf.reshape(tf.transpose(tf.reshape(x, [batch, heads, n, hd]), [0, 2, 1, 3]), [batch, n, heads * hd]);
}

/**
 * The heads of q, k and v `[B, H, N, hd]` from a qkv linear's output `[B, N, 3·H·hd]` (q, k and v
 * in consecutive blocks of `H·hd` columns, each block head after head, as timm's ViT lays them out).
 */
export function splitQkv(qkv: tf.Tensor3D, heads: number): AttentionInputs {
  const [q, k, v] = tf.split(qkv, 3, 2).map((t) => splitHeads(t as tf.Tensor3D, heads)) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  return { q, k, v };
}
