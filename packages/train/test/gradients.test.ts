import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm, trainingGradients } from '../src/index';
import { createTrainableModel, NUM_CLASSES } from './fixtures/setup';

beforeAll(async () => {
  await initBackend();
});

describe('trainingGradients', () => {
  it('accumulates 4 micro-batches to the full-batch gradient (1e-5), trainable variables only', async () => {
    const model = createTrainableModel(createTestViT());
    const batch = randomBatch(model.backbone, 8, NUM_CLASSES, 3);
    const full = await trainingGradients(model, batch, { labelSmoothing: 0.1 });
    const micro = await trainingGradients(model, batch, { labelSmoothing: 0.1, microBatch: 2 });
    const trainable = model.trainableVariables().map((v) => v.name).sort();
    expect(Object.keys(full.grads).sort()).toEqual(trainable);
    expect(Object.keys(micro.grads).sort()).toEqual(trainable);
    expect(trainable.length).toBeLessThan(model.parameters.list().length);
    for (const name of trainable) {
      const a = full.grads[name]!.dataSync();
      const b = micro.grads[name]!.dataSync();
      const scale = Math.max(1, ...Array.from(a, Math.abs));
      expect(maxAbsDiff(a, b) / scale, name).toBeLessThan(1e-5);
    }
    expect(Math.abs(full.loss - micro.loss)).toBeLessThan(1e-5);
    // The loss is the batch mean of the label-smoothed cross-entropy (tfjs's own implementation).
    const reference = tf.tidy(() =>
      tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, NUM_CLASSES), model.forward(batch.x, { training: true }), undefined, 0.1).dataSync()[0]!,
    );
    expect(full.loss).toBeCloseTo(reference, 5);
    tf.dispose([full.grads, micro.grads, batch.x, batch.y]);
    model.dispose({ backbone: true });
  });

  it('handles a micro-batch that does not divide the batch', async () => {
    const model = createTrainableModel(createTestViT());
    const batch = randomBatch(model.backbone, 5, NUM_CLASSES, 4);
    const full = await trainingGradients(model, batch, { labelSmoothing: 0 });
    const micro = await trainingGradients(model, batch, { labelSmoothing: 0, microBatch: 2 });
    for (const name of Object.keys(full.grads)) expect(maxAbsDiff(full.grads[name]!.dataSync(), micro.grads[name]!.dataSync()), name).toBeLessThan(1e-5);
    tf.dispose([full.grads, micro.grads, batch.x, batch.y]);
    model.dispose({ backbone: true });
  });
});

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) when the global norm is larger (PyTorch clip_grad_norm_)', async () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) };
    const { grads: clipped, norm } = await clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 6);
    const factor = 1 / (5 + 1e-6);
    expect(maxAbsDiff(clipped.a!.dataSync(), [3 * factor, 0])).toBeLessThan(1e-7);
    expect(maxAbsDiff(clipped.b!.dataSync(), [0, 4 * factor])).toBeLessThan(1e-7);
    tf.dispose(clipped);
  });

  it('leaves gradients under the limit untouched', async () => {
    const grads = { a: tf.tensor1d([0.3, 0.4]) };
    const result = await clipByGlobalNorm(grads, 1);
    expect(result.grads).toBe(grads);
    expect(result.norm).toBeCloseTo(0.5, 6);
    tf.dispose(grads);
  });
});
