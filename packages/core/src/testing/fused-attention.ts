import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '../model/peft-model';
import { FUSED_KERNELS } from '../ops/fused-kernels';

/** One run of {@link runWithAndWithoutFusedAttention}: the logits, each trainable variable's gradient, and the kernels that ran. */
export interface AttentionPathRun {
  logits: Float32Array;
  gradients: Map<string, Float32Array>;
  kernels: Set<string>;
}

/**
 * Runs `model` on `x` (logits, and the gradients of its trainable variables for the loss
 * `Σ logits·w`, w fixed) on the active backend twice: with core's fused attention kernels
 * ({@link FUSED_KERNELS} `qkvAttention`, `qkvAttentionGrad`) as the backend registers them, then with
 * them unregistered (every attention composed), so a test can check which path a model takes and
 * that both give the same numbers.
 */
export async function runWithAndWithoutFusedAttention(model: PeftModel, x: tf.Tensor4D): Promise<{ fused: AttentionPathRun; composed: AttentionPathRun }> {
  const fused = await runOnce(model, x);
  const backend = tf.getBackend();
  const names = [FUSED_KERNELS.qkvAttention, FUSED_KERNELS.qkvAttentionGrad];
  const configs = names.map((name) => tf.getKernel(name, backend)).filter((config) => config !== undefined);
  for (const config of configs) tf.unregisterKernel(config.kernelName, backend);
  try {
    return { fused, composed: await runOnce(model, x) };
  } finally {
    for (const config of configs) tf.registerKernel(config);
  }
}

async function runOnce(model: PeftModel, x: tf.Tensor4D): Promise<AttentionPathRun> {
  const variables = model.trainableVariables();
  const info = await tf.profile(() => {
    const logits = model.forward(x);
    const weights = tf.randomUniform(logits.shape, -1, 1, 'float32', 17);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.forward(x), weights)) as tf.Scalar, variables);
    weights.dispose();
    return [logits, ...variables.map((v) => grads[v.name]!)];
  });
  const [logits, ...gradients] = info.result as tf.Tensor[];
  const run: AttentionPathRun = {
    logits: Float32Array.from(logits!.dataSync()),
    gradients: new Map(variables.map((v, i) => [v.name, Float32Array.from(gradients[i]!.dataSync())])),
    kernels: new Set(info.kernels.map((k) => k.name)),
  };
  tf.dispose(info.result as tf.Tensor[]);
  return run;
}

/**
 * The largest difference between two runs' logits or any gradient, relative to the largest magnitude
 * of that array in `reference`.
 */
export function largestRelativeDifference(run: AttentionPathRun, reference: AttentionPathRun): number {
  const relative = (a: Float32Array, b: Float32Array) => {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(b[i]!));
    }
    return a.length === b.length ? diff / (scale || 1) : Infinity;
  };
  let worst = relative(run.logits, reference.logits);
  for (const [name, gradient] of reference.gradients) worst = Math.max(worst, relative(run.gradients.get(name) ?? new Float32Array(), gradient));
  return worst;
}
