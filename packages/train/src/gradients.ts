import * as tf from '@tensorflow/tfjs-core';
import { inputBatchSize, isFrozenOutput, OptionError, sliceInput, VpeftError, type BackboneInput, type PeftModel } from '@vpeft/core';
import type { TrainBatch } from './data';
import { crossEntropySum, trainingTargets } from './loss';
import type { DataParallelTrainer } from './parallel/data-parallel-trainer';

/** The summed gradients of one batch and its mean loss. The caller disposes `grads`. */
export interface TrainingGradients {
  /** Mean loss over the batch (a number; NaN/Infinity are passed through). */
  loss: number;
  /** Gradient of the mean loss, keyed by tf.Variable name (trainable variables only). */
  grads: tf.NamedTensorMap;
  /** Largest `tf.memory().numBytes` seen right after a forward pass, when the tape holds every activation. */
  peakBytes: number;
}

/** Options for {@link lossGradients}. */
export interface LossGradientsOptions {
  /** Computes the batch in chunks of at most this many images (bounded memory), summing their gradients; default: all at once. */
  microBatch?: number;
  /** Variables to differentiate; default: the model's trainable variables (frozen weights get no gradient computed). */
  variables?: tf.Variable[];
}

/**
 * The gradient of the batch-mean softmax cross-entropy against `targets` (`[B, K]`, see
 * `trainingTargets`) with respect to the model's trainable variables: the one loss and gradient
 * loop of vpeft training, used on one thread (`fit`) and by each data-parallel worker. With
 * `microBatch` < B the batch is split into chunks of at most `microBatch` images; each chunk's loss is
 * its summed loss divided by B, so the chunk gradients add up to the full-batch gradient while only
 * one chunk's activations are alive at a time (backbones here have no batch statistics).
 */
export async function lossGradients(model: PeftModel, images: BackboneInput, targets: tf.Tensor2D, options: LossGradientsOptions = {}): Promise<TrainingGradients> {
  const size = inputBatchSize(images);
  const microBatch = options.microBatch ?? size;
  if (!Number.isInteger(microBatch) || microBatch < 1) throw new OptionError('microBatch', microBatch, 'a positive integer', 'lossGradients');
  if (targets.rank !== 2 || targets.shape[0] !== size || targets.shape[1] !== model.numClasses) {
    throw new OptionError('targets', `a tensor of shape [${targets.shape.join(', ')}]`, `[${size}, ${model.numClasses}] (one row per image)`, 'lossGradients');
  }
  const variables = options.variables ?? model.trainableVariables();
  const chunk = Math.min(microBatch, size);
  let grads: tf.NamedTensorMap = {};
  let lossSum = 0;
  let peakBytes = 0;
  for (let start = 0; start < size; start += chunk) {
    const count = Math.min(chunk, size - start);
    const { value, grads: part } = tf.tidy(() => {
      const x = count === size ? images : sliceInput(images, start, count);
      const y = count === size ? targets : tf.slice(targets, [start, 0], [count, -1]);
      return tf.variableGrads(() => {
        const loss = tf.div(crossEntropySum(model.forward(x, { training: true }), y), size) as tf.Scalar;
        peakBytes = Math.max(peakBytes, tf.memory().numBytes);
        return loss;
      }, variables);
    });
    // An asynchronous read: the webgpu backend refuses synchronous ones in Node.
    lossSum += (await value.data())[0]!;
    value.dispose();
    if (start === 0) {
      grads = part;
    } else {
      const summed: tf.NamedTensorMap = {};
      for (const name of Object.keys(grads)) summed[name] = tf.add(grads[name]!, part[name]!);
      tf.dispose([grads, part]);
      grads = summed;
    }
  }
  return { loss: lossSum, grads, peakBytes };
}

/**
 * {@link lossGradients} of a training batch with label smoothing (targets `(1 − ε)·onehot + ε/K`),
 * on this thread.
 */
export async function trainingGradients(model: PeftModel, batch: TrainBatch, options: { labelSmoothing: number; microBatch?: number }): Promise<TrainingGradients> {
  const targets = tf.tidy(() => trainingTargets(batch.y, model.numClasses, options.labelSmoothing));
  try {
    return await lossGradients(model, batch.x, targets, { microBatch: options.microBatch });
  } finally {
    targets.dispose();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm`, as PyTorch's
 * `clip_grad_norm_`: factor `min(1, maxNorm / (norm + 1e-6))`. Returns the norm before clipping
 * and new gradients (the inputs are disposed when replaced).
 */
export async function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): Promise<{ grads: tf.NamedTensorMap; norm: number }> {
  const names = Object.keys(grads);
  if (names.length === 0) return { grads, norm: 0 };
  const normTensor = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))));
  const norm = (await normTensor.data())[0]!;
  normTensor.dispose();
  const factor = maxNorm / (norm + 1e-6);
  if (!(factor < 1)) return { grads, norm };
  const clipped: tf.NamedTensorMap = {};
  for (const name of names) clipped[name] = tf.mul(grads[name]!, factor);
  tf.dispose(grads);
  return { grads: clipped, norm };
}

/**
 * The same gradients as {@link trainingGradients}, computed by a data-parallel worker pool (each
 * worker runs {@link lossGradients} on its share of the same targets).
 */
export async function parallelTrainingGradients(
  trainer: DataParallelTrainer,
  model: PeftModel,
  batch: TrainBatch,
  options: { labelSmoothing: number },
): Promise<TrainingGradients> {
  if (isFrozenOutput(batch.x)) throw new VpeftError('data-parallel workers take images, not cached frozen-part outputs; train from the cache on one thread (or turn the cache off)');
  const targets = tf.tidy(() => trainingTargets(batch.y, model.numClasses, options.labelSmoothing));
  try {
    const { loss, grads } = await trainer.gradients(batch.x, targets);
    return { loss, grads, peakBytes: tf.memory().numBytes };
  } finally {
    targets.dispose();
  }
}
