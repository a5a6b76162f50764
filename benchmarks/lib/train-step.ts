/**
 * The train step every speed benchmark times: softmax cross-entropy, Adam on the model's trainable
 * variables, optionally accumulated over micro-batches (the wasm32 heap caps at 4 GiB, and a ViT-Ti
 * b32 tape does not fit). With micro-batches the gradient is the mean over the whole batch, exactly
 * as one pass would compute it (the ViT has no batch statistics).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '@vpeft/core';
import { lossGradients } from '@vpeft/train';
import { now, type Clock } from './vit-products';

/** A train step: one optimizer update from one batch; returns the loss. */
export type TrainStep = (images: tf.Tensor4D, oneHotLabels: tf.Tensor2D) => Promise<number>;

/** Loss of a chunk, scaled by its share of the batch (so summed chunk gradients are the batch mean). */
function chunkLoss(model: PeftModel, images: tf.Tensor4D, labels: tf.Tensor2D, share: number): tf.Scalar {
  const loss = tf.losses.softmaxCrossEntropy(labels, model.forward(images, { training: true })) as tf.Scalar;
  return share === 1 ? loss : tf.mul(loss, share);
}

/** A {@link TrainStep} with Adam over the model's trainable variables. */
export function createTrainStep(model: PeftModel, optimizer: tf.Optimizer, options: { microBatch?: number } = {}): TrainStep {
  const variables = model.trainableVariables();
  return async (images, labels) => {
    const microBatch = options.microBatch ?? images.shape[0];
    if (microBatch >= images.shape[0]) {
      const loss = optimizer.minimize(() => chunkLoss(model, images, labels, 1), true, variables)!;
      const value = (await loss.data())[0]!;
      loss.dispose();
      return value;
    }
    const { loss, grads } = await lossGradients(model, images, labels, { microBatch, variables });
    optimizer.applyGradients(grads);
    tf.dispose(grads);
    return loss;
  };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median seconds of `steps` runs of `step` on `clock` (default elapsed time), after one untimed warm-up run. */
export async function timedMedian(step: () => unknown, steps: number, clock: Clock = 'wall'): Promise<number> {
  await step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = now(clock);
    await step();
    times.push((now(clock) - t0) / 1000);
  }
  return median(times);
}

/** Bytes of the wasm backend's heap (it grows and never shrinks: its size is the process's wasm peak). */
export function wasmHeapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.length;
}
