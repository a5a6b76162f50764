import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type PeftModel } from '@vpeft/core';
import { createDataParallelTrainer, lossGradients, splitBatch, trainingTargets, type DataParallelTrainer } from '../src/index';
import { createModel, METHOD_MODULE } from './fixtures/parallel-model';

/** The fixture model with every parameter perturbed, so workers only agree if they copy the values. */
function perturbedModel(): PeftModel {
  const model = createModel();
  model.parameters.list().forEach((p, i) => {
    tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.05, 'float32', 100 + i))));
  });
  return model;
}

function maxDiff(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  return Math.max(...Object.keys(a).map((k) => tf.tidy(() => tf.max(tf.abs(tf.sub(a[k]!, b[k]!))).dataSync()[0]!)));
}

const images = () => tf.randomNormal([5, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
const labels = () => tf.tensor1d([0, 3, 1, 4, 2], 'int32');
const targets = () => tf.tidy(() => trainingTargets(labels(), 5));

describe('splitBatch', () => {
  it('splits n images into near-equal contiguous shares that cover the batch', () => {
    expect(splitBatch(5, 2)).toEqual([{ start: 0, count: 3 }, { start: 3, count: 2 }]);
    expect(splitBatch(8, 3)).toEqual([{ start: 0, count: 3 }, { start: 3, count: 3 }, { start: 6, count: 2 }]);
    expect(splitBatch(1, 2)).toEqual([{ start: 0, count: 1 }]);
  });
});

describe('lossGradients', () => {
  beforeAll(async () => { await initBackend(); });

  it('micro-batched gradients equal the one-pass gradient of the mean loss', async () => {
    const model = perturbedModel();
    const x = images();
    const y = targets();
    const whole = await lossGradients(model, x, y);
    const chunked = await lossGradients(model, x, y, { microBatch: 2 });
    expect(Math.abs(whole.loss - chunked.loss)).toBeLessThan(1e-5);
    expect(maxDiff(whole.grads, chunked.grads)).toBeLessThan(1e-5);
    expect(Object.keys(whole.grads)).toHaveLength(model.trainableVariables().length);
    tf.dispose([x, y, whole.grads, chunked.grads]);
    model.dispose();
  });
});

describe('createDataParallelTrainer', () => {
  let trainer: DataParallelTrainer | undefined;
  beforeAll(async () => { await initBackend(); });
  afterAll(async () => { await trainer?.dispose(); });

  it('two workers give the single-thread batch gradient (uneven split, copied weights) to 1e-5', async () => {
    const model = perturbedModel();
    trainer = await createDataParallelTrainer(model, { imports: [METHOD_MODULE], workers: 2, microBatch: 2 });
    expect(trainer.workers).toBe(2);
    const x = images();
    const y = targets();
    const single = await lossGradients(model, x, y);
    const parallel = await trainer.gradients(x, y);
    expect(Math.abs(single.loss - parallel.loss)).toBeLessThan(1e-5);
    expect(maxDiff(single.grads, parallel.grads)).toBeLessThan(1e-5);
    tf.dispose([x, y, single.grads, parallel.grads]);

    // Three SGD steps through the workers match three single-thread steps; no tensors leak from step 1 on.
    // (SGD, not Adam: Adam scales float noise in exactly-zero gradients, e.g. the key bias's, up to the learning rate.)
    const reference = perturbedModel();
    const x2 = images();
    const y2 = targets();
    const optimizer: tf.Optimizer = tf.train.sgd(0.1);
    const referenceOptimizer: tf.Optimizer = tf.train.sgd(0.1);
    let tensorsAfterFirst = 0;
    for (let step = 0; step < 3; step++) {
      await trainer.step(x2, y2, optimizer);
      const { grads } = await lossGradients(reference, x2, y2);
      referenceOptimizer.applyGradients(grads);
      tf.dispose(grads);
      if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    for (const p of model.parameters.list()) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(p.variable, reference.parameters.get(p.name).variable))).dataSync()[0]!);
      expect(diff, p.name).toBeLessThan(1e-5);
    }
    // A smaller batch after the full ones (an epoch's last), then a full one again: the staging
    // buffers the trainer reuses hold each batch's own images and targets.
    for (const count of [3, x2.shape[0]]) {
      const xs = tf.slice(x2, 0, count);
      const ys = tf.slice(y2, 0, count);
      const one = await lossGradients(model, xs, ys);
      const two = await trainer.gradients(xs, ys);
      expect(Math.abs(one.loss - two.loss), `batch of ${count}`).toBeLessThan(1e-5);
      expect(maxDiff(one.grads, two.grads), `batch of ${count}`).toBeLessThan(1e-5);
      tf.dispose([xs, ys, one.grads, two.grads]);
    }
    // Logits on the workers (inference mode, current values) equal model.predict's.
    const predicted = await trainer.predict(x2);
    const expected = model.predict(x2);
    expect(predicted.shape).toEqual(expected.shape);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(predicted, expected))).dataSync()[0]!)).toBeLessThan(1e-5);
    tf.dispose([predicted, expected]);
    tf.dispose([x2, y2]);
    optimizer.dispose();
    referenceOptimizer.dispose();
    reference.dispose();
    model.dispose();
  });

  it('fails naming the method when a worker cannot register it (no package, not in imports)', async () => {
    const model = perturbedModel();
    await expect(createDataParallelTrainer(model, { workers: 1 })).rejects.toThrow(/test-output-scale/);
    model.dispose();
  });

  it('validates its options', async () => {
    const model = perturbedModel();
    await expect(createDataParallelTrainer(model, { imports: [METHOD_MODULE], workers: 0 })).rejects.toThrow(/option `workers` got 0/);
    model.dispose();
  });
});
