import * as tf from '@tensorflow/tfjs-core';
import type { AttentionInputs, Transform } from '@vpeft/core';

/** The reparameterisation MLP's parts shared by every layer: embedding `[p, D]`, `fc1` `[D, hidden]` + bias. */
export interface PrefixProjectionShared {
  readonly embedding: tf.Variable;
  readonly fc1Weight: tf.Variable;
  readonly fc1Bias: tf.Variable;
}

/** One layer's block of the MLP's output layer: `fc2` `[hidden, 2·D]` + bias `[2·D]` (keys, then values). */
export interface PrefixProjectionLayer {
  readonly fc2Weight: tf.Variable;
  readonly fc2Bias: tf.Variable;
}

/** Where a layer's prefixes come from: its own variables, or the shared MLP. */
export type PrefixSource =
  | { readonly kind: 'direct'; readonly key: tf.Variable; readonly value: tf.Variable }
  | { readonly kind: 'projection'; readonly shared: PrefixProjectionShared; readonly layer: PrefixProjectionLayer };

/**
 * A layer's prefix keys and values `[p, D]` each. With the MLP: `tanh(E·W1 + b1)·W2ᵢ + b2ᵢ`, split
 * into keys (first D columns) and values (last D).
 */
export function layerPrefixes(source: PrefixSource): { key: tf.Tensor2D; value: tf.Tensor2D } {
  if (source.kind === 'direct') return { key: source.key as tf.Tensor2D, value: source.value as tf.Tensor2D };
  return tf.tidy(() => {
    const { shared, layer } = source;
    const hidden = tf.tanh(tf.add(tf.matMul(shared.embedding as tf.Tensor2D, shared.fc1Weight as tf.Tensor2D), shared.fc1Bias));
    const out = tf.add(tf.matMul(hidden, layer.fc2Weight as tf.Tensor2D), layer.fc2Bias) as tf.Tensor2D;
    const d = out.shape[1] / 2;
    const [key, value] = tf.split(out, [d, d], 1) as [tf.Tensor2D, tf.Tensor2D];
    return { key, value };
  });
}

/** `[p, D]` → `[B, H, p, D/H]`: one prefix per head slice, the same for every image. */
function toHeads(prefix: tf.Tensor2D, batch: number, heads: number): tf.Tensor4D {
  const [p, d] = prefix.shape;
  const perHead = tf.transpose(tf.reshape(prefix, [1, p, heads, d / heads]), [0, 2, 1, 3]);
  return tf.tile(perHead, [batch, 1, 1, 1]) as tf.Tensor4D;
}

/**
 * The transform at an `attention` site: prepends the layer's p prefix keys and values to every
 * head's keys and values, so each query attends over `[P_k; k]` and reads `[P_v; v]`:
 * `softmax(q·[P_k; k]ᵀ / √hd)·[P_v; v]`. Queries (and the token sequence) are unchanged.
 */
export function prefixTransform(source: PrefixSource): Transform<'attention'> {
  return (inputs: AttentionInputs, next, ctx) => {
    const { q, k, v } = inputs;
    const heads = ctx.site.heads ?? q.shape[1];
    const batch = q.shape[0];
    const { key, value } = layerPrefixes(source);
    const extendedK = tf.concat([toHeads(key, batch, heads), k], 2) as tf.Tensor4D;
    const extendedV = tf.concat([toHeads(value, batch, heads), v], 2) as tf.Tensor4D;
    return next({ q, k: extendedK, v: extendedV });
  };
}
