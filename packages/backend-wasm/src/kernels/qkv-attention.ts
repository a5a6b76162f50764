import * as tf from '@tensorflow/tfjs-core';
import { fusedFor, pointer } from '../fused/fused-module';
import { FUSED } from './fused-names';
import { assertFloat32, callKernel, release, requireInputs, zeros, type WasmBackend } from './kernel-utils';

/** The sizes of an attention over qkv `[B, N, 3·heads·hd]`, checking the layout. */
interface QkvLayout {
  batch: number;
  tokens: number;
  heads: number;
  headDim: number;
}

function qkvLayout(kernel: string, qkv: tf.TensorInfo, heads: unknown): QkvLayout {
  const [batch, tokens, width] = qkv.shape as [number, number, number];
  if (qkv.shape.length !== 3 || typeof heads !== 'number' || !Number.isInteger(heads) || heads < 1 || width % (3 * heads) !== 0) {
    throw new Error(`vpeft wasm ${kernel}: qkv must be [B, N, 3·heads·headDim] with a positive integer attr heads, got [${qkv.shape}] and heads ${String(heads)}`);
  }
  return { batch, tokens, heads, headDim: width / (3 * heads) };
}

/** Throws unless `info` has `shape`. */
function expectShape(kernel: string, name: string, info: tf.TensorInfo, shape: number[]): void {
  if (!tf.util.arraysEqual(info.shape, shape)) throw new Error(`vpeft wasm ${kernel}: ${name} must be [${shape}], got [${info.shape}]`);
}

/**
 * Multi-head attention straight from the qkv linear's output `[B, N, 3·d]` (native/fused.c): the
 * scores of each head are products of q and k read in place, softmax is the wasm backend's own
 * (XNNPACK) kernel over all heads at once, and each head's context is written into its columns of
 * `[B, N, d]`. Outputs the context and the probabilities `[B·heads, N, N]` its gradient needs.
 */
export const qkvAttention: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { qkv } = requireInputs(FUSED.qkvAttention, inputs, 'qkv');
  assertFloat32(FUSED.qkvAttention, qkv);
  const { batch, tokens, heads, headDim } = qkvLayout(FUSED.qkvAttention, qkv, attrs?.heads);
  const wasm = backend as WasmBackend;
  const scoresShape = [batch * heads, tokens, tokens];
  const context = wasm.makeOutput([batch, tokens, heads * headDim], 'float32');
  if (batch * tokens === 0) return [context, wasm.makeOutput(scoresShape, 'float32')];
  const scores = headDim === 0 ? zeros(wasm, scoresShape) : wasm.makeOutput(scoresShape, 'float32');
  const scratch = wasm.makeOutput([headDim, tokens], 'float32');
  try {
    const kernels = fusedFor(wasm);
    if (headDim > 0) kernels.attention_scores(pointer(wasm, qkv), pointer(wasm, scratch), pointer(wasm, scores), batch, tokens, heads, headDim, 1 / Math.sqrt(headDim));
    const probs = callKernel('Softmax', wasm, { logits: scores }, { dim: 2 });
    if (headDim > 0) kernels.attention_context(pointer(wasm, probs), pointer(wasm, qkv), pointer(wasm, context), batch, tokens, heads, headDim);
    return [context, probs];
  } finally {
    release(wasm, scores, scratch);
  }
};

/**
 * The gradient of {@link qkvAttention}: from the context's gradient `dcontext` `[B, N, d]`, `qkv` and
 * the saved probabilities, `dqkv` `[B, N, 3·d]` with every head's dq, dk and dv written in place
 * (native/fused.c `attention_grad`: softmax's gradient and the score scale fused, no concatenation).
 */
export const qkvAttentionGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dcontext, qkv, probs } = requireInputs(FUSED.qkvAttentionGrad, inputs, 'dcontext', 'qkv', 'probs');
  assertFloat32(FUSED.qkvAttentionGrad, dcontext, qkv, probs);
  const { batch, tokens, heads, headDim } = qkvLayout(FUSED.qkvAttentionGrad, qkv, attrs?.heads);
  expectShape(FUSED.qkvAttentionGrad, 'dcontext', dcontext, [batch, tokens, heads * headDim]);
  expectShape(FUSED.qkvAttentionGrad, 'probs', probs, [batch * heads, tokens, tokens]);
  const wasm = backend as WasmBackend;
  const dqkv = wasm.makeOutput(qkv.shape, 'float32');
  if (tf.util.sizeFromShape(qkv.shape) === 0) return dqkv;
  const scratch = wasm.makeOutput([headDim, tokens], 'float32');
  const ds = wasm.makeOutput([tokens, tokens], 'float32');
  try {
    const p = (info: tf.TensorInfo) => pointer(wasm, info);
    fusedFor(wasm).attention_grad(p(dcontext), p(qkv), p(probs), p(scratch), p(ds), p(dqkv), batch, tokens, heads, headDim, 1 / Math.sqrt(headDim));
    return dqkv;
  } finally {
    release(wasm, scratch, ds);
  }
};
