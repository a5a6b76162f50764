import * as tf from '@tensorflow/tfjs-core';
import type { DataParallelTrainer, PeftModel } from '@vpeft/core';
import type { TrainBatch } from './data';
import { smoothedCrossEntropySum } from './loss';

/** The summed gradients of one batch and its mean loss. The caller disposes `grads`. */
export interface TrainingGradients {
  /** Mean loss over the batch (a number; NaN/Infinity are passed through). */
  loss: number;
  /** Gradient of the mean loss, keyed by tf.Variable name (trainable variables only). */
  grads: tf.NamedTensorMap;
  /** Largest `tf.memory().numBytes` seen right after a forward pass, when the tape holds every activation. */
  peakBytes: number;
}

/**
 * Gradient of the batch-mean smoothed cross-entropy with respect to the model's trainable
 * variables only (frozen weights get no gradient computed). With `microBatch` < batch size, the
 * batch is split into chunks of at most `microBatch` images; each chunk's loss is its summed loss
 * divided by the full batch size, so the chunk gradients add up to the full-batch gradient while
 * only one chunk's activations are alive at a time. Core's `batchGradients` does the same for
 * plain cross-entropy; this one adds label smoothing and samples the peak tensor memory.
 */
export function trainingGradients(model: PeftModel, batch: TrainBatch, options: { labelSmoothing: number; microBatch?: number }): TrainingGradients {
  const variables = model.trainableVariables();
  const size = batch.x.shape[0];
  const chunk = Math.min(options.microBatch ?? size, size);
  let grads: tf.NamedTensorMap = {};
  let lossSum = 0;
  let peakBytes = 0;
  for (let start = 0; start < size; start += chunk) {
    const count = Math.min(chunk, size - start);
    const { value, grads: part } = tf.tidy(() => {
      const x = count === size ? batch.x : tf.slice(batch.x, [start, 0, 0, 0], [count, -1, -1, -1]);
      const y = count === size ? batch.y : tf.slice(batch.y, [start], [count]);
      return tf.variableGrads(() => {
        const loss = tf.div(smoothedCrossEntropySum(model.forward(x, { training: true }), y, options.labelSmoothing), size) as tf.Scalar;
        peakBytes = Math.max(peakBytes, tf.memory().numBytes);
        return loss;
      }, variables);
    });
    lossSum += value.dataSync()[0]!;
    value.dispose();
    if (start === 0) {
      grads = part;
    } else {
      const summed: tf.NamedTensorMap = {};
      for (const name of Object.keys(grads)) {
        summed[name] = tf.add(grads[name]!, part[name]!);
      }
      tf.dispose([grads, part]);
      grads = summed;
    }
  }
  return { loss: lossSum, grads, peakBytes };
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm`, as PyTorch's
 * `clip_grad_norm_`: factor `min(1, maxNorm / (norm + 1e-6))`. Returns the norm before clipping
 * and new gradients (the inputs are disposed when replaced).
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: number } {
  const names = Object.keys(grads);
  if (names.length === 0) return { grads, norm: 0 };
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))).dataSync()[0]!);
  const factor = maxNorm / (norm + 1e-6);
  if (!(factor < 1)) return { grads, norm };
  const clipped: tf.NamedTensorMap = {};
  for (const name of names) clipped[name] = tf.mul(grads[name]!, factor);
  tf.dispose(grads);
  return { grads: clipped, norm };
}

/**
 * The same gradients as {@link trainingGradients}, computed by a data-parallel worker pool: label
 * smoothing becomes soft targets `(1 − ε)·onehot + ε/C`, whose cross-entropy is the smoothed loss.
 */
export async function parallelTrainingGradients(
  trainer: DataParallelTrainer,
  model: PeftModel,
  batch: TrainBatch,
  options: { labelSmoothing: number },
): Promise<TrainingGradients> {
  const classes = model.numClasses;
  const targets = tf.tidy(() => {
    const onehot = tf.cast(tf.oneHot(tf.cast(batch.y, 'int32') as tf.Tensor1D, classes), 'float32');
    return options.labelSmoothing > 0 ? tf.add(tf.mul(onehot, 1 - options.labelSmoothing), options.labelSmoothing / classes) : onehot;
  }) as tf.Tensor2D;
  try {
    const { loss, grads } = await trainer.gradients(batch.x, targets);
    return { loss, grads, peakBytes: tf.memory().numBytes };
  } finally {
    targets.dispose();
  }
}
