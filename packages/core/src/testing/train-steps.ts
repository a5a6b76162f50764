import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '../model/peft-model';

/**
 * Runs `steps` Adam steps of softmax cross-entropy on one batch, updating only the model's
 * trainable variables. Returns the losses. Meant for tests; `@vpeft/train` is the real trainer.
 */
export function trainSteps(
  model: PeftModel,
  batch: { x: tf.Tensor4D; y: tf.Tensor1D },
  steps: number,
  options: { learningRate?: number; optimizer?: tf.Optimizer; afterStep?: (step: number) => void } = {},
): number[] {
  const optimizer = options.optimizer ?? tf.train.adam(options.learningRate ?? 1e-2);
  const losses: number[] = [];
  const oneHot = tf.oneHot(batch.y, model.numClasses);
  try {
    for (let step = 0; step < steps; step++) {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(oneHot, model.forward(batch.x, { training: true })) as tf.Scalar,
        true,
        model.trainableVariables(),
      );
      losses.push(loss!.dataSync()[0]!);
      loss!.dispose();
      options.afterStep?.(step);
    }
  } finally {
    oneHot.dispose();
    if (!options.optimizer) optimizer.dispose();
  }
  return losses;
}
