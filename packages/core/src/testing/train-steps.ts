import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '../model/peft-model';

/** Options of {@link trainSteps} and {@link trainStepsAsync}. */
export interface TrainStepsOptions {
  learningRate?: number;
  optimizer?: tf.Optimizer;
  afterStep?: (step: number) => void;
}

/**
 * One optimizer step of softmax cross-entropy on `batch` over the model's trainable variables only;
 * returns the loss (the caller disposes it).
 */
export function trainStep(model: PeftModel, batch: { x: tf.Tensor4D; oneHot: tf.Tensor }, optimizer: tf.Optimizer): tf.Scalar {
  return optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(batch.oneHot, model.forward(batch.x, { training: true })) as tf.Scalar,
    true,
    model.trainableVariables(),
  )!;
}

/**
 * The step loop both runners share: yields each step's loss tensor, which the runner reads (its own
 * way) before asking for the next; disposes the loss, the targets and an optimizer it made.
 */
function* stepLosses(model: PeftModel, batch: { x: tf.Tensor4D; y: tf.Tensor1D }, steps: number, options: TrainStepsOptions): Generator<tf.Scalar> {
  const optimizer = options.optimizer ?? tf.train.adam(options.learningRate ?? 1e-2);
  const oneHot = tf.oneHot(batch.y, model.numClasses);
  try {
    for (let step = 0; step < steps; step++) {
      const loss = trainStep(model, { x: batch.x, oneHot }, optimizer);
      try {
        yield loss;
      } finally {
        loss.dispose();
      }
      options.afterStep?.(step);
    }
  } finally {
    oneHot.dispose();
    if (!options.optimizer) optimizer.dispose();
  }
}

/**
 * Runs `steps` Adam steps of softmax cross-entropy on one batch, updating only the model's
 * trainable variables. Returns the losses. Meant for tests; `@vpeft/train` is the real trainer.
 * Reads synchronously: on webgpu in Node use {@link trainStepsAsync}.
 */
export function trainSteps(model: PeftModel, batch: { x: tf.Tensor4D; y: tf.Tensor1D }, steps: number, options: TrainStepsOptions = {}): number[] {
  const losses: number[] = [];
  for (const loss of stepLosses(model, batch, steps, options)) losses.push(loss.dataSync()[0]!);
  return losses;
}

/** {@link trainSteps} reading each loss with `await data()`: works on every backend (webgpu in Node too). */
export async function trainStepsAsync(
  model: PeftModel,
  batch: { x: tf.Tensor4D; y: tf.Tensor1D },
  steps: number,
  options: TrainStepsOptions = {},
): Promise<number[]> {
  const losses: number[] = [];
  for (const loss of stepLosses(model, batch, steps, options)) losses.push((await loss.data())[0]!);
  return losses;
}
