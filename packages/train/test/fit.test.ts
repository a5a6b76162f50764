import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, readSafetensors, ADAPTER_WEIGHTS_FILE, type PeftModel } from '@vpeft/core';
import { bitEqual, maxAbsDiff, snapshot } from '@vpeft/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  CheckpointError,
  evaluate,
  fit,
  trainingGradients,
  lastCheckpointDirectory,
  loadCheckpoint,
  NonFiniteLossError,
  readTrainerState,
  type EvalData,
  type ProgressEvent,
  type TrainBatch,
} from '../src/index';
import { createImagePool, createTrainableModel, NUM_CLASSES, poolBatches, RESUME_RUN, resumePool, trainableValues, trainData } from './fixtures/setup';

const here = dirname(fileURLToPath(import.meta.url));
const temporaries: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vpeft-train-'));
  temporaries.push(dir);
  return dir;
}

beforeAll(async () => {
  await initBackend();
});
afterAll(async () => {
  await Promise.all(temporaries.map((d) => rm(d, { recursive: true, force: true })));
});

function expectSameValues(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, values] of expected) expect(bitEqual(actual.get(name)!, values), `${name} bit-identical`).toBe(true);
}

/** Validation data over a fixed pool of 12 images. */
function validation(): EvalData {
  const pool = createImagePool(12, 99);
  const order = Int32Array.from({ length: pool.size }, (_, i) => i);
  return () => poolBatches(pool, order, 6);
}

/** The uninterrupted reference run of the resume tests, computed once. */
let reference: { values: Map<string, Float32Array>; evaluations: unknown[] } | undefined;
async function referenceRun(): Promise<NonNullable<typeof reference>> {
  if (!reference) {
    const model = createTrainableModel();
    const result = await fit(model, trainData(resumePool(), RESUME_RUN.batchSize), { ...RESUME_RUN, eval: validation(), checkpointDir: await tempDir() });
    expect(result.steps).toBe(12);
    reference = { values: trainableValues(model), evaluations: result.evaluations };
    model.dispose({ backbone: true });
  }
  return reference;
}

describe('fit', () => {
  it('trains only the trainable parameters, reports progress per step, and keeps the tensor count flat', async () => {
    const model = createTrainableModel();
    const frozenBefore = snapshot(model.parameters.list().filter((p) => !p.trainable));
    const trainableBefore = trainableValues(model);
    const events: ProgressEvent[] = [];
    const pool = createImagePool(24, 3);
    const baseline = tf.memory().numTensors;
    const result = await fit(model, trainData(pool, 6), {
      epochs: 2,
      optimizer: { learningRate: 1e-2, weightDecay: 0.05 },
      schedule: { type: 'cosine', warmupEpochs: 1, warmupStartLr: 1e-4, minLr: 1e-5 },
      onProgress: (event) => {
        events.push(event);
      },
    });
    expect(tf.memory().numTensors).toBe(baseline);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.map((e) => e.epoch)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    // Flat: every step leaves the same number of live tensors (AdamW's moments exist from the start).
    expect(new Set(events.map((e) => e.numTensors)).size, events.map((e) => e.numTensors).join(', ')).toBe(1);
    // The lr each step used, from the schedule's formula: 4 warm-up steps from 1e-4, then cosine over 4 steps.
    const expectedLr = [0, 1, 2, 3].map((s) => 1e-4 + ((1e-2 - 1e-4) * s) / 4).concat([0, 1, 2, 3].map((s) => 1e-5 + 0.5 * (1e-2 - 1e-5) * (1 + Math.cos((Math.PI * s) / 4))));
    events.forEach((e, i) => expect(e.lr).toBeCloseTo(expectedLr[i]!, 12));
    for (const e of events) {
      expect(e.totalSteps).toBe(8);
      expect(e.imagesPerSecond).toBeGreaterThan(0);
      expect(e.memoryBytes).toBeGreaterThan(0);
      expect(e.peakMemoryBytes).toBeGreaterThanOrEqual(e.memoryBytes);
      expect(Number.isFinite(e.loss)).toBe(true);
      if (tf.getBackend() === 'wasm') expect(e.wasmHeapBytes).toBeGreaterThan(0);
    }
    expect(events.at(-1)!.etaSeconds).toBe(0);
    expect(result.steps).toBe(8);
    expect(result.finalLoss).toBe(events.at(-1)!.loss);
    for (const p of model.parameters.list().filter((q) => !q.trainable)) {
      expect(bitEqual(frozenBefore.get(p.name)!, p.variable.dataSync() as Float32Array), `${p.name} frozen`).toBe(true);
    }
    for (const [name, before] of trainableBefore) expect(bitEqual(before, model.parameters.variable(name).dataSync() as Float32Array), `${name} trained`).toBe(false);
    model.dispose({ backbone: true });
  });

  it('resumes after a crash (a throw from onProgress at step 7) to the same weights as an uninterrupted run, bit for bit', async () => {
    const expected = await referenceRun();
    const dir = await tempDir();
    const crashed = createTrainableModel();
    const data = trainData(resumePool(), RESUME_RUN.batchSize);
    const crash = new Error('simulated crash');
    await expect(
      fit(crashed, data, {
        ...RESUME_RUN,
        eval: validation(),
        checkpointDir: dir,
        checkpointEvery: 3,
        onProgress: (e) => {
          if (e.step === 7) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    crashed.dispose({ backbone: true });
    expect((await readTrainerState((await lastCheckpointDirectory(dir))!)).step).toBe(6);
    const resumed = createTrainableModel();
    const steps: number[] = [];
    const result = await fit(resumed, data, { ...RESUME_RUN, eval: validation(), checkpointDir: dir, resume: true, onProgress: (e) => void steps.push(e.step) });
    expect(result.resumedFromStep).toBe(6);
    expect(steps).toEqual([7, 8, 9, 10, 11, 12]);
    expectSameValues(trainableValues(resumed), expected.values);
    expect(result.evaluations).toEqual(expected.evaluations);
    resumed.dispose({ backbone: true });
  });

  it('resumes after SIGKILL of a child process mid-epoch to the same weights as an uninterrupted run', async () => {
    const expected = await referenceRun();
    const dir = await tempDir();
    const child = spawnSync(process.execPath, ['--conditions=@vpeft/source', '--import', 'tsx', join(here, 'fixtures/train-child.ts'), dir, '7'], {
      cwd: resolve(here, '../../..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(child.stdout).not.toContain('finished');
    const state = await readTrainerState((await lastCheckpointDirectory(dir))!);
    expect({ step: state.step, epoch: state.epoch, batchesDoneInEpoch: state.batchesDoneInEpoch }).toEqual({ step: 6, epoch: 1, batchesDoneInEpoch: 2 });
    const resumed = createTrainableModel();
    // The child ran without eval; the reference's weights do not depend on evaluation.
    const result = await fit(resumed, trainData(resumePool(), RESUME_RUN.batchSize), { ...RESUME_RUN, checkpointDir: dir, resume: true });
    expect(result.resumedFromStep).toBe(6);
    expectSameValues(trainableValues(resumed), expected.values);
    resumed.dispose({ backbone: true });
  });

  it('refuses to resume with different settings, naming them', async () => {
    const dir = await tempDir();
    const model = createTrainableModel();
    const data = trainData(resumePool(), RESUME_RUN.batchSize);
    await fit(model, data, { ...RESUME_RUN, epochs: 1 });
    await fit(model, data, { ...RESUME_RUN, epochs: 1, checkpointDir: dir });
    await expect(fit(model, data, { ...RESUME_RUN, epochs: 1, checkpointDir: dir, resume: true, optimizer: { learningRate: 1e-3, weightDecay: 0.05 } })).rejects.toThrow(
      CheckpointError,
    );
    await expect(fit(model, data, { ...RESUME_RUN, epochs: 1, checkpointDir: dir, resume: true, labelSmoothing: 0 })).rejects.toThrow(/labelSmoothing: 0.1 \(checkpoint\) vs 0 \(now\)/);
    model.dispose({ backbone: true });
  });

  it('leaves the previous checkpoint loadable when a save is interrupted', async () => {
    const dir = await tempDir();
    const model = createTrainableModel();
    let saves = 0;
    let atStep4: Map<string, Float32Array> | undefined;
    const fault = new Error('disk full (injected)');
    await expect(
      fit(model, trainData(resumePool(), RESUME_RUN.batchSize), {
        ...RESUME_RUN,
        checkpointDir: dir,
        onProgress: (e) => {
          if (e.step === 4) atStep4 = trainableValues(model);
        },
        checkpointHooks: {
          afterWrite: (stage) => {
            if (stage === 'adapter') saves++;
            if (saves === 2 && stage === 'optimizer') throw fault;
          },
        },
      }),
    ).rejects.toBe(fault);
    // The half-written second checkpoint is gone; only the committed first one remains.
    expect(await readdir(dir)).toEqual(['last']);
    const fresh = createTrainableModel();
    const optimizer = new AdamW(fresh.trainableParameters().map((p) => ({ name: p.name, variable: p.variable, decay: true })), { learningRate: 1 });
    const state = await loadCheckpoint(dir, fresh, optimizer);
    expect(state!.step).toBe(4);
    expect(optimizer.step).toBe(4);
    expectSameValues(trainableValues(fresh), atStep4!);
    // A crash between the two renames of a save leaves only `last.previous`: it is found and resumed from.
    await rename(join(dir, 'last'), join(dir, 'last.previous'));
    expect(await lastCheckpointDirectory(dir)).toBe(join(dir, 'last.previous'));
    const resumed = createTrainableModel();
    const result = await fit(resumed, trainData(resumePool(), RESUME_RUN.batchSize), { ...RESUME_RUN, checkpointDir: dir, resume: true });
    expect(result.resumedFromStep).toBe(4);
    expect((await readdir(dir)).sort()).toEqual(['last']);
    expectSameValues(trainableValues(resumed), (await referenceRun()).values);
    optimizer.dispose();
    for (const m of [fresh, model, resumed]) m.dispose({ backbone: true });
  });

  it('stops on a NaN loss with NonFiniteLossError before the update, keeping the last good checkpoint', async () => {
    const dir = await tempDir();
    const model = createTrainableModel();
    let beforeBadStep: Map<string, Float32Array> | undefined;
    const poisoned = trainData(resumePool(), RESUME_RUN.batchSize, (epoch, batch) => epoch === 1 && batch === 2);
    const error = await fit(model, poisoned, {
      ...RESUME_RUN,
      checkpointDir: dir,
      onProgress: (e) => {
        if (e.step === 6) beforeBadStep = trainableValues(model);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as NonFiniteLossError).step).toBe(6);
    expect(Number.isNaN((error as NonFiniteLossError).loss)).toBe(true);
    expect((error as Error).message).toMatch(/loss is NaN at step 6 \(epoch 1\)/);
    // The bad step's update was not applied.
    expectSameValues(trainableValues(model), beforeBadStep!);
    // The checkpoint of the end of epoch 0 is intact and loads.
    const fresh = createTrainableModel();
    const optimizer = new AdamW(fresh.trainableParameters().map((p) => ({ name: p.name, variable: p.variable, decay: true })), { learningRate: 1 });
    const state = await loadCheckpoint(dir, fresh, optimizer);
    expect(state!.step).toBe(4);
    for (const values of trainableValues(fresh).values()) expect(values.every(Number.isFinite)).toBe(true);
    optimizer.dispose();
    model.dispose({ backbone: true });
    fresh.dispose({ backbone: true });
  });

  it('keeps the best-on-validation adapter in best/ and restores it with restoreBest', async () => {
    const dir = await tempDir();
    const model = createTrainableModel();
    const pool = createImagePool(8, 21);
    const order = Int32Array.from({ length: pool.size }, (_, i) => i);
    // Validation labels made from the model's own predictions: evaluation 1 scores 100%, the others 0%.
    let evaluation = 0;
    const rigged: EvalData = () => {
      const n = evaluation++;
      return (async function* (): AsyncGenerator<TrainBatch> {
        for await (const batch of poolBatches(pool, order, 8)) {
          const predicted = tf.tidy(() => tf.argMax(model.predict(batch.x), 1).dataSync() as Int32Array);
          const labels = Array.from(predicted, (p) => (n === 1 ? p : (p + 1) % NUM_CLASSES));
          batch.y.dispose();
          yield { x: batch.x, y: tf.tensor1d(labels, 'int32') };
        }
      })();
    };
    const atEvaluation: Array<Map<string, Float32Array>> = [];
    const result = await fit(model, trainData(resumePool(), RESUME_RUN.batchSize), {
      ...RESUME_RUN,
      eval: rigged,
      checkpointDir: dir,
      restoreBest: true,
      onEvaluation: () => void atEvaluation.push(trainableValues(model)),
    });
    expect(result.evaluations.map((e) => e.top1)).toEqual([0, 1, 0]);
    expect(result.best).toMatchObject({ epoch: 1, step: 8, top1: 1 });
    expect(result.bestAdapterDir).toBe(join(dir, 'best'));
    // best/ holds the weights at evaluation 1; last/ the final ones; the model was restored to the best.
    const bestFile = await readSafetensors(join(dir, 'best', ADAPTER_WEIGHTS_FILE));
    const lastFile = await readSafetensors(join(dir, 'last', ADAPTER_WEIGHTS_FILE));
    for (const [name, values] of atEvaluation[1]!) expect(bitEqual(bestFile.tensors.get(name)!.data, values), `best ${name}`).toBe(true);
    for (const [name, values] of atEvaluation[2]!) expect(bitEqual(lastFile.tensors.get(name)!.data, values), `last ${name}`).toBe(true);
    expect(maxAbsDiff(atEvaluation[1]!.get('head.weight')!, atEvaluation[2]!.get('head.weight')!)).toBeGreaterThan(0);
    expectSameValues(trainableValues(model), atEvaluation[1]!);
    model.dispose({ backbone: true });
  });

  it('rejects bad options and data that yields more batches than stepsPerEpoch', async () => {
    const model: PeftModel = createTrainableModel();
    const data = trainData(resumePool(), 8);
    await expect(fit(model, data, { epochs: 0, optimizer: { learningRate: 1 } })).rejects.toThrow(/option `epochs` got 0; expected a positive integer/);
    await expect(fit(model, data, { epochs: 1, optimizer: { learningRate: 1 }, resume: true })).rejects.toThrow(/resume/);
    await expect(fit(model, data, { epochs: 1, optimizer: { learningRate: 1 }, labelSmoothing: 1 })).rejects.toThrow(/labelSmoothing/);
    await expect(fit(model, data, { epochs: 1, optimizer: { learningRate: 0 } })).rejects.toThrow(/learningRate/);
    const before = tf.memory().numTensors;
    await expect(fit(model, { ...data, stepsPerEpoch: 2 }, { epochs: 1, optimizer: { learningRate: 1e-3 } })).rejects.toThrow(/more than stepsPerEpoch = 2/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose({ backbone: true });
  });

  it('trains any TrainableModel through stepGradients and an evaluator exactly as the default step and evaluate', async () => {
    const settings = { epochs: 2, optimizer: { learningRate: 1e-2, weightDecay: 1e-2 }, labelSmoothing: 0.1, seed: 3 };
    const data = trainData(resumePool(), 8);
    const direct = createTrainableModel();
    const expected = await fit(direct, data, { ...settings, eval: validation() });
    const model = createTrainableModel();
    const plain = { trainableParameters: () => model.trainableParameters(), saveAdapter: (dir: string) => model.saveAdapter(dir), loadAdapter: (dir: string) => model.loadAdapter(dir) };
    await expect(fit(plain, data, settings)).rejects.toThrow('fit: the model is not a PeftModel; give a stepGradients function for it');
    await expect(fit(plain, data, { ...settings, stepGradients: (b, c) => trainingGradients(model, b, c), eval: validation() })).rejects.toThrow('give an evaluator');
    await expect(fit(plain, data, { ...settings, stepGradients: (b, c) => trainingGradients(model, b, c), microBatch: 2 })).rejects.toThrow('not together with stepGradients');
    const result = await fit(plain, data, {
      ...settings,
      checkpointDir: await tempDir(),
      stepGradients: (batch, context) => trainingGradients(model, batch, context),
      evaluator: () => evaluate(model, validation()),
    });
    expect(result.evaluations).toEqual(expected.evaluations);
    expectSameValues(trainableValues(model), trainableValues(direct));
    direct.dispose({ backbone: true });
    model.dispose({ backbone: true });
  });
});
