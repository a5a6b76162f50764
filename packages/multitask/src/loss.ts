import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '@vpeft/core';
import { smoothedCrossEntropySum, type TrainingGradients } from '@vpeft/train';
import type { MultiTaskBatch } from './data';
import type { MultiTaskModel } from './model';

/**
 * The gradient of one mixed batch's loss `L = (1/B) Σ_i w_{t(i)} · CE_i` (CE_i: image i's
 * label-smoothed cross-entropy under its own task's head, with ε/K_t of that task; w_t: the task's
 * loss weight, default 1) with respect to the trainable variables. With every weight 1 this is the
 * batch-mean cross-entropy a single-task run minimises. Tasks absent from the batch get no gradient.
 */
export function multiTaskGradients(model: MultiTaskModel, batch: MultiTaskBatch, options: { labelSmoothing: number; lossWeights?: Readonly<Record<string, number>> }): TrainingGradients {
  const size = batch.x.shape[0];
  if (batch.y.shape[0] !== size) throw new VpeftError(`multitask batch: ${size} images but ${batch.y.shape[0]} labels`);
  let peakBytes = 0;
  const { value, grads } = tf.tidy(() =>
    tf.variableGrads(() => {
      const terms = model.forward(batch.x, batch.tasks, { training: true }).map(({ task, indices, logits }) => {
        const labels = indices.length === size ? batch.y : tf.gather(batch.y, tf.tensor1d([...indices], 'int32'));
        return tf.mul(smoothedCrossEntropySum(logits, labels as tf.Tensor1D, options.labelSmoothing), options.lossWeights?.[task] ?? 1);
      });
      const loss = tf.div(tf.addN(terms), size) as tf.Scalar;
      peakBytes = Math.max(peakBytes, tf.memory().numBytes);
      return loss;
    }, model.trainableVariables()),
  );
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads, peakBytes };
}
