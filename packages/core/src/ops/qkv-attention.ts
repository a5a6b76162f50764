import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '../errors/errors';
import { mergeHeads, multiHeadAttention, splitHeads, splitQkv } from './attention';
import { FUSED_KERNELS, hasFusedKernel, runFusedKernel } from './fused-kernels';

/**
 * Multi-head attention over a qkv linear's output `[B, N, 3·d]` (`d = heads·hd`; q, k and v in
 * consecutive blocks of d columns, each head after head): the same values as {@link multiHeadAttention}
 * of {@link splitQkv}, `[B, N, d]`. Where the backend registers {@link FUSED_KERNELS} `qkvAttention`
 * (wasm), one kernel reads every head's q, k, v in place and writes its context into its columns,
 * saving only the softmax probabilities for the gradient, which `qkvAttentionGrad` writes as `dqkv`
 * `[B, N, 3·d]` in one pass: no split, head transposes, scale multiply or concatenation. Elsewhere it
 * runs the composed ops. For a block whose attention site no transform intercepts (a transform that
 * changes q, k or v needs them split).
 */
export function qkvAttention(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  if (qkv.rank !== 3 || !Number.isInteger(heads) || heads < 1 || qkv.shape[2] % (3 * heads) !== 0) {
    throw new VpeftError(`qkvAttention: qkv [${qkv.shape.join(', ')}] with ${heads} heads does not fit [B, N, 3·heads·headDim] (heads a positive integer)`);
  }
  if (!hasFusedKernel(FUSED_KERNELS.qkvAttention, qkv) || qkv.size === 0) return multiHeadAttention(splitQkv(qkv, heads));
  let fn = byHeads.get(heads);
  if (!fn) {
    fn = makeQkvAttention(heads);
    byHeads.set(heads, fn);
  }
  return fn(qkv);
}

type QkvAttentionFn = (qkv: tf.Tensor3D) => tf.Tensor3D;
const byHeads = new Map<number, QkvAttentionFn>();

function makeQkvAttention(heads: number): QkvAttentionFn {
  return tf.customGrad(((qkv: tf.Tensor3D, save: tf.GradSaveFunc) => {
    const [context, probs] = runFusedKernel(FUSED_KERNELS.qkvAttention, { qkv }, { heads }) as [tf.Tensor3D, tf.Tensor3D];
    save([qkv, probs]);
    return {
      value: context,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [input, savedProbs] = saved as [tf.Tensor3D, tf.Tensor3D];
        if (hasFusedKernel(FUSED_KERNELS.qkvAttentionGrad, dy, input, savedProbs)) {
          return [runFusedKernel(FUSED_KERNELS.qkvAttentionGrad, { dcontext: dy, qkv: input, probs: savedProbs }, { heads }) as tf.Tensor];
        }
        return [composedGradient(dy as tf.Tensor3D, input, savedProbs, heads)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as QkvAttentionFn;
}

/**
 * dqkv from tfjs ops (a backend with the forward kernel but not its gradient), per head with
 * P = probs, dC = the context's gradient: dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dC, where
 * dS = (dP − Σ dP·P)·P·scale (softmax's gradient, then the score scale) and dP = dC·vᵀ.
 */
function composedGradient(dcontext: tf.Tensor3D, qkv: tf.Tensor3D, probs: tf.Tensor3D, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, n, width] = qkv.shape;
    const hd = width / (3 * heads);
    const flat = (t: tf.Tensor) => tf.reshape(t, [b * heads, n, hd]) as tf.Tensor3D;
    const { q, k, v } = splitQkv(qkv, heads);
    const dc = flat(splitHeads(dcontext, heads));
    const dp = tf.matMul(dc, flat(v), false, true);
    const ds = tf.mul(tf.mul(tf.sub(dp, tf.sum(tf.mul(dp, probs), -1, true)), probs), 1 / Math.sqrt(hd)) as tf.Tensor3D;
    const dq = tf.matMul(ds, flat(k));
    const dk = tf.matMul(ds, flat(q), true, false);
    const dv = tf.matMul(probs, dc, true, false);
    return tf.concat([dq, dk, dv].map((t) => mergeHeads(t, b, heads)), 2) as tf.Tensor3D;
  });
}
