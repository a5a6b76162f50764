import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vpeft/core';
import { createTestViT, maxAbsDiff } from '@vpeft/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTaskModel, MULTITASK_CONFIG_FILE, readMultiTaskConfig, SHARED_WEIGHTS_FILE, taskWeightsFile, type MultiTaskModel } from '../src/index';
import { buildTwoTasks, trainableValues } from './fixtures/tasks';

const dirs: string[] = [];
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function randomized(): MultiTaskModel {
  const model = buildTwoTasks();
  model.trainableParameters().forEach((p, i) => tf.tidy(() => p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.2, 'float32', 40 + i))));
  return model;
}

describe('multi-task adapter files', () => {
  it('holds the shared modules once and each task in its own file; a fresh model loads it back exactly', async () => {
    const model = randomized();
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-multitask-files-'));
    dirs.push(dir);
    await model.saveAdapter(dir);
    expect((await readdir(dir)).sort()).toEqual([MULTITASK_CONFIG_FILE, SHARED_WEIGHTS_FILE, taskWeightsFile('a'), taskWeightsFile('b')].sort());
    const config = await readMultiTaskConfig(dir);
    expect(config.shared.methods.map((m) => m.name)).toEqual(['lora']);
    expect(config.tasks.map((t) => [t.name, t.methods.map((m) => m.name), Object.keys(t.tensors).filter((n) => n.startsWith('heads.'))])).toEqual([
      ['a', ['a-adapter'], ['heads.a.weight', 'heads.a.bias']],
      ['b', [], ['heads.b.weight', 'heads.b.bias']],
    ]);
    const fresh = buildTwoTasks();
    await fresh.loadAdapter(dir);
    const expected = trainableValues(model);
    for (const [name, v] of trainableValues(fresh)) expect(v, name).toEqual(expected.get(name));
    fresh.dispose({ backbone: true });
    model.dispose({ backbone: true });
  });

  it('loads one task alone for serving, reading only the shared file and that task\'s file', async () => {
    const model = randomized();
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-multitask-serve-'));
    dirs.push(dir);
    await model.saveAdapter(dir);
    // The other task's tensors are gone: loading task a cannot have read them.
    await rm(join(dir, taskWeightsFile('b')));
    const served = await loadTaskModel(createTestViT(1), dir, 'a');
    expect(served.classNames).toEqual(['x', 'y', 'z']);
    const images = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const [expected, actual] = [model.task('a').forward(images), served.forward(images)];
    expect(maxAbsDiff(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    tf.dispose([images, expected, actual]);
    await expect(loadTaskModel(createTestViT(1), dir, 'b')).rejects.toThrow(taskWeightsFile('b'));
    await expect(loadTaskModel(createTestViT(1), dir, 'emoji')).rejects.toThrow('no task "emoji"; the adapter\'s tasks: a, b');
    served.dispose({ backbone: true });
    model.dispose({ backbone: true });
  });
});
