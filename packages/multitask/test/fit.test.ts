import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vpeft/core';
import { createTestViT } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { evaluate, smoothedCrossEntropySum } from '@vpeft/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMultiTaskModel, fitMultiTask, multiTaskGradients, type MultiTaskFitOptions } from '../src/index';
import { buildTwoTasks, syntheticSource, trainableValues, validation } from './fixtures/tasks';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vpeft-multitask-fit-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const A = syntheticSource(12, 3, 11);
const B = syntheticSource(6, 2, 12);
const DATA = { train: { a: A, b: B }, val: { a: validation(A), b: validation(B) } };
const RUN: MultiTaskFitOptions = {
  epochs: 2,
  batchSize: 6,
  optimizer: { learningRate: 1e-2, weightDecay: 1e-4 },
  schedule: { type: 'cosine', warmupEpochs: 1 },
  labelSmoothing: 0.1,
  sampling: 'temperature',
  temperature: 2,
  lossWeights: { a: 2 },
  seed: 4,
};

describe('fitMultiTask', () => {
  it('computes the loss (1/B) Σ_i w_t(i) CE_i from each task view on its own', () => {
    const model = buildTwoTasks();
    const batch = { ...A.batch([0, 1, 2]), tasks: ['a', 'a', 'a'] };
    const bPart = B.batch([0, 1]);
    const mixed = { x: tf.concat([batch.x, bPart.x]) as tf.Tensor4D, y: tf.concat([batch.y, bPart.y]) as tf.Tensor1D, tasks: ['a', 'a', 'a', 'b', 'b'] };
    const { loss, grads } = multiTaskGradients(model, mixed, { labelSmoothing: 0.1, lossWeights: { a: 2, b: 0.5 } });
    const ceA = tf.tidy(() => smoothedCrossEntropySum(model.task('a').forward(batch.x), batch.y, 0.1).dataSync()[0]!);
    const ceB = tf.tidy(() => smoothedCrossEntropySum(model.task('b').forward(bPart.x), bPart.y, 0.1).dataSync()[0]!);
    expect(loss).toBeCloseTo((2 * ceA + 0.5 * ceB) / 5, 5);
    tf.dispose([grads, batch.x, batch.y, bPart.x, bPart.y, mixed.x, mixed.y]);
    model.dispose({ backbone: true });
  });

  it('validates every task on its own head, keeps the best epoch by mean top-1, and a killed run resumes to the same weights', async () => {
    const reference = buildTwoTasks();
    const expected = await fitMultiTask(reference, DATA, { ...RUN, checkpointDir: await tempDir() });
    expect(expected.steps).toBe(2 * Math.ceil(18 / 6));
    expect(expected.probabilities.a).toBeCloseTo(Math.sqrt(12) / (Math.sqrt(12) + Math.sqrt(6)), 12);
    const last = expected.evaluations.at(-1)!;
    for (const task of ['a', 'b'] as const) {
      const direct = await evaluate(reference.task(task), validation(task === 'a' ? A : B));
      expect(last.perTask![task]!.top1).toBe(direct.top1);
    }
    expect(last.top1).toBeCloseTo((last.perTask!.a!.top1 + last.perTask!.b!.top1) / 2, 12);
    expect(expected.bestPerTask).toEqual(expected.best!.perTask);
    const values = trainableValues(reference);
    reference.dispose({ backbone: true });

    const dir = await tempDir();
    const crashed = buildTwoTasks();
    await expect(
      fitMultiTask(crashed, DATA, {
        ...RUN,
        checkpointDir: dir,
        checkpointEvery: 2,
        onProgress: (e) => {
          if (e.step === 5) throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    crashed.dispose({ backbone: true });
    const resumed = buildTwoTasks();
    const result = await fitMultiTask(resumed, DATA, { ...RUN, checkpointDir: dir, resume: true });
    expect(result.resumedFromStep).toBe(4);
    expect(result.evaluations).toEqual(expected.evaluations);
    for (const [name, v] of trainableValues(resumed)) expect(v, name).toEqual(values.get(name));
    await expect(fitMultiTask(buildTwoTasks(), DATA, { ...RUN, sampling: 'uniform', checkpointDir: dir, resume: true })).rejects.toThrow('extra.sampling: "temperature" (checkpoint) vs "uniform" (now)');
    resumed.dispose({ backbone: true });
  });

  it('rejects a task with no data, data for an unknown task, a bad loss weight and duplicate task names', async () => {
    const model = buildTwoTasks();
    const empty = { size: 0, load: A.load };
    await expect(fitMultiTask(model, { train: { a: A } }, RUN)).rejects.toThrow('task "b" has no training data; give data.train.b');
    await expect(fitMultiTask(model, { train: { a: A, b: empty } }, RUN)).rejects.toThrow('task "b" has no training data (0 images)');
    await expect(fitMultiTask(model, { train: { a: A, b: B, c: B } }, RUN)).rejects.toThrow('train names the task "c", which the model does not have; its tasks: a, b');
    await expect(fitMultiTask(model, DATA, { ...RUN, lossWeights: { a: -1 } })).rejects.toThrow('lossWeights.a');
    expect(() => createMultiTaskModel(createTestViT(1), { shared: lora({ r: 2 }), tasks: [{ name: 'a', numClasses: 2 }, { name: 'a', numClasses: 3 }] })).toThrow('duplicate task name "a"');
    const images = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.forward(images, ['a', 'emoji'])).toThrow('batch sample 1 has task "emoji", which this model does not have; its tasks: a, b');
    images.dispose();
    model.dispose({ backbone: true });
  });
});
