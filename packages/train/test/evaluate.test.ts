import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vpeft/core';
import { createTestViT } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type TrainBatch } from '../src/index';
import { createImagePool, createTrainableModel, NUM_CLASSES, poolBatches } from './fixtures/setup';

beforeAll(async () => {
  await initBackend();
});

describe('evaluate', () => {
  it('computes top-1, per-class accuracy and mean loss as from the logits, and disposes every batch', async () => {
    const model = createTrainableModel(createTestViT());
    const pool = createImagePool(22, 5);
    const order = Int32Array.from({ length: pool.size }, (_, i) => i);
    // Reference: logits of the whole pool at once, scored by hand.
    const all = tf.tensor4d(pool.images, [pool.size, ...pool.shape]);
    const logits = model.predict(all);
    const rows = logits.arraySync();
    tf.dispose([all, logits]);
    const correct = new Array(NUM_CLASSES).fill(0);
    const counts = new Array(NUM_CLASSES).fill(0);
    let lossSum = 0;
    rows.forEach((row, i) => {
      const label = pool.labels[i]!;
      const predicted = row.indexOf(Math.max(...row));
      counts[label]++;
      if (predicted === label) correct[label]++;
      const max = Math.max(...row);
      lossSum += max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) - row[label]!;
    });
    const before = tf.memory().numTensors;
    const result = await evaluate(model, () => poolBatches(pool, order, 6), { batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.count).toBe(22);
    expect(result.classCounts).toEqual(counts);
    expect(result.top1).toBeCloseTo(correct.reduce((a, b) => a + b, 0) / 22, 10);
    result.perClass.forEach((accuracy, k) => expect(accuracy).toBeCloseTo(correct[k] / counts[k], 10));
    expect(result.loss).toBeCloseTo(lossSum / 22, 4);
    model.dispose({ backbone: true });
  });

  it('reports progress after every batch: images done of the total, img/s, and an ETA that reaches 0', async () => {
    const model = createTrainableModel(createTestViT());
    const pool = createImagePool(22, 5);
    const order = Int32Array.from({ length: pool.size }, (_, i) => i);
    const seen: Array<{ done: number; total?: number; imagesPerSecond: number; etaSeconds: number }> = [];
    await evaluate(model, () => poolBatches(pool, order, 6), { total: 22, onProgress: (p) => void seen.push(p) });
    // Batches of 6 over 22 images: 6, 12, 18, 22.
    expect(seen.map((p) => p.done)).toEqual([6, 12, 18, 22]);
    expect(seen.every((p) => p.total === 22 && p.imagesPerSecond > 0 && p.etaSeconds >= 0)).toBe(true);
    expect(seen.at(-1)!.etaSeconds).toBe(0);
    model.dispose({ backbone: true });
  });

  it('reports NaN per class for classes without images and accepts a plain iterable', async () => {
    const model = createTrainableModel(createTestViT());
    const batch: TrainBatch = { x: tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, y: tf.tensor1d([1, 1], 'int32') };
    const result = await evaluate(model, [batch]);
    expect((batch.x as tf.Tensor).isDisposed && batch.y.isDisposed).toBe(true);
    expect(result.count).toBe(2);
    expect(result.classCounts).toEqual([0, 2, 0, 0]);
    expect(Number.isNaN(result.perClass[0]!)).toBe(true);
    model.dispose({ backbone: true });
  });
});
