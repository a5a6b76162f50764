import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type PeftModel } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataParallelTrainer, evaluate, fit, parallelTrainingGradients, trainingGradients, type DataParallelTrainer } from '../src/index';
import { createImagePool, createTrainableModel, poolBatches, trainData } from './fixtures/setup';

let model: PeftModel;
let trainer: DataParallelTrainer;

beforeAll(async () => {
  await initBackend();
  model = createTrainableModel();
  trainer = await createDataParallelTrainer(model, { workers: 2 });
});
afterAll(async () => {
  await trainer.dispose();
  model.dispose({ backbone: true });
});

describe('fit with data-parallel workers', () => {
  it('gets the same label-smoothed gradients from two workers as from one thread (to 1e-5)', async () => {
    const pool = createImagePool(6, 3);
    const batchOf = async () => {
      for await (const b of poolBatches(pool, Int32Array.from({ length: 6 }, (_, i) => i), 6)) return b;
      throw new Error('no batch');
    };
    const local = await trainingGradients(model, await batchOf(), { labelSmoothing: 0.1 });
    const parallel = await parallelTrainingGradients(trainer, model, await batchOf(), { labelSmoothing: 0.1 });
    expect(parallel.loss).toBeCloseTo(local.loss, 5);
    expect(Object.keys(parallel.grads).sort()).toEqual(Object.keys(local.grads).sort());
    for (const name of Object.keys(local.grads)) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(local.grads[name]!, parallel.grads[name]!))).dataSync()[0]!);
      expect(diff, name).toBeLessThan(1e-5);
    }
    tf.dispose([local.grads, parallel.grads]);
  });

  it('trains through fit({ dataParallel }) with a flat tensor count', async () => {
    const counts: number[] = [];
    const losses: number[] = [];
    const result = await fit(model, trainData(createImagePool(16, 5), 8), {
      epochs: 3,
      optimizer: { learningRate: 3e-3 },
      labelSmoothing: 0.1,
      dataParallel: trainer,
      onProgress: (e) => {
        counts.push(e.numTensors);
        losses.push(e.loss);
      },
    });
    expect(result.steps).toBe(6);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
  });

  it('scores fit\'s evaluations on the workers, as evaluate on this thread scores them', async () => {
    const held = createImagePool(11, 9);
    const evalData = () => poolBatches(held, Int32Array.from({ length: 11 }, (_, i) => i), 5);
    const records: Array<{ top1: number; loss: number }> = [];
    await fit(model, trainData(createImagePool(8, 6), 8), {
      epochs: 1,
      optimizer: { learningRate: 3e-3 },
      dataParallel: trainer,
      eval: evalData,
      onEvaluation: (record) => {
        records.push(record);
      },
    });
    // The model keeps the last weights (no restoreBest): one thread must score them the same.
    const local = await evaluate(model, evalData());
    expect(records).toHaveLength(1);
    expect(records[0]!.top1).toBe(local.top1);
    expect(records[0]!.loss).toBeCloseTo(local.loss, 5);
    // And evaluate with the trainer's predict directly: logits of an uneven 5-image batch (3 + 2).
    const onWorkers = await evaluate(model, evalData(), { predict: trainer.predict });
    expect(onWorkers.count).toBe(11);
    expect(onWorkers.perClass).toEqual(local.perClass);
    expect(onWorkers.loss).toBeCloseTo(local.loss, 5);
  });
});
