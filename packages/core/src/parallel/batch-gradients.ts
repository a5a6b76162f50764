import * as tf from '@tensorflow/tfjs-core';
import { OptionError } from '../errors/errors';
import type { PeftModel } from '../model/peft-model';

/** Gradients of the mean loss over a batch, keyed by variable name, and that loss. */
export interface BatchGradients {
  /** Mean softmax cross-entropy over the batch. */
  loss: number;
  /** d(loss)/d(variable) for each variable, keyed by `variable.name`. The caller disposes them. */
  grads: tf.NamedTensorMap;
}

/** Options for {@link batchGradients}. */
export interface BatchGradientsOptions {
  /** Computes the batch in chunks of this many images (bounded memory), summing their gradients; default: the whole batch at once. */
  microBatch?: number;
  /** Variables to differentiate; default: the model's trainable variables. */
  variables?: tf.Variable[];
}

/** Class ids `[B]` become one-hot `[B, numClasses]`; `[B, numClasses]` (one-hot or soft) pass through. */
export function toTargets(labels: tf.Tensor, numClasses: number): tf.Tensor2D {
  if (labels.rank === 1) return tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, numClasses), 'float32') as tf.Tensor2D;
  if (labels.rank === 2 && labels.shape[1] === numClasses) return labels as tf.Tensor2D;
  throw new OptionError('labels', `a tensor of shape [${labels.shape.join(', ')}]`, `class ids [B] or targets [B, ${numClasses}]`, 'batchGradients');
}

/**
 * The gradient of the mean softmax cross-entropy over `images` with respect to the model's trainable
 * variables, computed in micro-batches when asked: each chunk's loss is weighted by its share of the
 * batch, so the summed gradient equals the one-pass gradient (backbones here have no batch statistics).
 * `labels` are class ids `[B]` or targets `[B, numClasses]`.
 */
export function batchGradients(model: PeftModel, images: tf.Tensor4D, labels: tf.Tensor, options: BatchGradientsOptions = {}): BatchGradients {
  const n = images.shape[0];
  const microBatch = options.microBatch ?? n;
  if (!Number.isInteger(microBatch) || microBatch < 1) throw new OptionError('microBatch', microBatch, 'a positive integer', 'batchGradients');
  if (labels.shape[0] !== n) throw new OptionError('labels', `${labels.shape[0]} rows`, `${n} rows (one per image)`, 'batchGradients');
  const variables = options.variables ?? model.trainableVariables();
  let loss = 0;
  let sums: tf.NamedTensorMap | undefined;
  for (let start = 0; start < n; start += microBatch) {
    const count = Math.min(microBatch, n - start);
    const { value, grads } = tf.tidy(() => {
      const targets = toTargets(labels, model.numClasses);
      const x = count === n ? images : tf.slice(images, [start, 0, 0, 0], [count, -1, -1, -1]);
      const y = count === n ? targets : tf.slice(targets, [start, 0], [count, -1]);
      return tf.variableGrads(() => {
        const chunkLoss = tf.losses.softmaxCrossEntropy(y, model.forward(x, { training: true })) as tf.Scalar;
        return count === n ? chunkLoss : tf.mul(chunkLoss, count / n);
      }, variables);
    });
    loss += value.dataSync()[0]!;
    value.dispose();
    if (sums === undefined) {
      sums = grads;
      continue;
    }
    for (const name of Object.keys(grads)) {
      const total = tf.add(sums[name]!, grads[name]!);
      sums[name]!.dispose();
      grads[name]!.dispose();
      sums[name] = total;
    }
  }
  return { loss, grads: sums ?? {} };
}
