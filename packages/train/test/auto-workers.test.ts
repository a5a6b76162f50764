// `workers: 'auto'`: when the worker pool is used and the one line that says so (no worker is started here).
import { initBackend, type PeftModel } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseWorkers, MIN_AUTO_WORKER_SECONDS, MIN_IMAGES_PER_WORKER } from '../src/index';
import { createTrainableModel } from './fixtures/setup';

let model: PeftModel;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  model = createTrainableModel();
});
afterAll(() => model.dispose({ backbone: true }));

const long = { requested: 'auto' as const, batchSize: 32, totalSteps: 1e9, cores: 2 };

describe('chooseWorkers', () => {
  it('uses every core on wasm for a long run whose batch gives each worker 8 images', async () => {
    expect(await chooseWorkers(model, long)).toEqual({ workers: 2, line: 'training on 2 worker threads (--workers auto; --workers 1 for one thread)' });
    // No more workers than the batch feeds with MIN_IMAGES_PER_WORKER images each.
    expect((await chooseWorkers(model, { ...long, batchSize: 3 * MIN_IMAGES_PER_WORKER, cores: 16 })).workers).toBe(3);
  });

  it('stays on one thread on one core, a small batch, a feature cache or a short run, and says why', async () => {
    expect(await chooseWorkers(model, { ...long, cores: 1 })).toMatchObject({ workers: 1, line: expect.stringContaining('one core') });
    expect(await chooseWorkers(model, { ...long, batchSize: 2 * MIN_IMAGES_PER_WORKER - 1 })).toMatchObject({ workers: 1, line: expect.stringContaining(`batch ${2 * MIN_IMAGES_PER_WORKER - 1}`) });
    expect(await chooseWorkers(model, { ...long, featureCache: true })).toMatchObject({ workers: 1, line: expect.stringContaining('feature cache') });
    const short = await chooseWorkers(model, { ...long, totalSteps: 1 });
    expect(short.workers).toBe(1);
    expect(short.line).toContain(`under the ${MIN_AUTO_WORKER_SECONDS} s`);
  });

  it('takes a requested number as given, except that a feature-cache run stays on one thread', async () => {
    expect(await chooseWorkers(model, { ...long, requested: 1 })).toEqual({ workers: 1, line: 'training on one thread (--workers 1)' });
    expect(await chooseWorkers(model, { ...long, requested: 3, cores: 1 })).toEqual({ workers: 3, line: 'training on 3 worker threads (--workers 3)' });
    expect((await chooseWorkers(model, { ...long, requested: 2, featureCache: true })).workers).toBe(1);
  });
});
