/**
 * Does data-parallel training on worker_threads beat one thread? (wasm in Node computes on one thread.)
 *
 *   pnpm bench:parallel --modes full,linear --batch 8,32 --workers 2 --steps 3 [--check]
 *
 * Same step semantics as benchmarks/speed.ts: each batch is split across --workers workers (each its
 * own tfjs + wasm instance and heap, micro-batched by --micro-batch inside), their mean gradients are
 * averaged weighted by their image counts, and Adam is applied once in the main thread, which holds
 * the canonical parameters. Parameters, images and gradients move through SharedArrayBuffers.
 * Prints wall-clock img/s against the single-thread step on the same machine, and with --check the
 * largest difference between the combined gradients and the single-thread batch gradients.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { createViT, describeBackend, initBackend, type PeftModel } from '@vpeft/core';
import type { GradientWorkerData, StepMessage } from './lib/gradient-worker';
import { buildSetting, type SettingName } from './lib/settings';
import { batchGradients, createTrainStep, median } from './lib/train-step';

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: 'full,linear' },
    batch: { type: 'string', default: '8,32' },
    workers: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
    'micro-batch': { type: 'string', default: '8' },
    'no-fast-kernels': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
  },
});
const NUM_CLASSES = 10;
const PIXELS = 224 * 224 * 3;
const workerCount = Number(values.workers);
const steps = Number(values.steps);
const microBatch = Number(values['micro-batch']);
const fastKernels = !values['no-fast-kernels'];
const batches = values.batch!.split(',').map(Number);
const maxBatch = Math.max(...batches);

const backend = await initBackend({ backend: 'wasm', fastKernels });
console.log(`load average at start: ${loadavg()[0]!.toFixed(2)}; ${describeBackend(backend)}; ${workerCount} workers; micro-batch ${microBatch}`);

/** Splits n images over the workers as evenly as possible. */
function shares(n: number): StepMessage[] {
  const out: StepMessage[] = [];
  let start = 0;
  for (let i = 0; i < workerCount; i++) {
    const count = Math.floor(n / workerCount) + (i < n % workerCount ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out.filter((s) => s.count > 0);
}

interface Pool {
  step(images: tf.Tensor4D, labels: tf.Tensor2D): Promise<{ loss: number; grads: Float32Array; computeMs: number[]; copyMs: number[] }>;
  writeParams(): void;
  close(): Promise<void>;
}

async function createPool(model: PeftModel, mode: SettingName): Promise<Pool> {
  const parameters = model.trainableParameters();
  const layout = parameters.map((p) => ({ name: p.name, size: p.variable.size }));
  const total = layout.reduce((s, l) => s + l.size, 0);
  const params = new SharedArrayBuffer(total * 4);
  const images = new SharedArrayBuffer(maxBatch * PIXELS * 4);
  const labels = new SharedArrayBuffer(maxBatch * NUM_CLASSES * 4);
  const gradBuffers = Array.from({ length: workerCount }, () => new SharedArrayBuffer(total * 4));
  const workers = gradBuffers.map((grads) => new Worker(new URL('./lib/ts-worker.mjs', import.meta.url), {
    execArgv: ['--conditions=@vpeft/source'],
    workerData: { entry: new URL('./lib/gradient-worker.ts', import.meta.url).href, mode, numClasses: NUM_CLASSES, fastKernels, microBatch, layout, params, grads, images, labels } satisfies GradientWorkerData & { entry: string },
  }));
  const next = (w: Worker) => new Promise<Record<string, number>>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(next));
  const paramView = new Float32Array(params);
  const writeParams = () => {
    let offset = 0;
    for (const p of parameters) {
      paramView.set(p.variable.dataSync() as Float32Array, offset);
      offset += p.variable.size;
    }
  };
  writeParams();
  return {
    writeParams,
    async step(x, y) {
      const n = x.shape[0];
      new Float32Array(images, 0, n * PIXELS).set(x.dataSync() as Float32Array);
      new Float32Array(labels, 0, n * NUM_CLASSES).set(y.dataSync() as Float32Array);
      const parts = shares(n);
      const replies = await Promise.all(parts.map((part, i) => {
        const reply = next(workers[i]!);
        workers[i]!.postMessage(part);
        return reply;
      }));
      const grads = new Float32Array(total);
      parts.forEach((part, i) => {
        const g = new Float32Array(gradBuffers[i]!);
        const w = part.count / n;
        for (let j = 0; j < total; j++) grads[j] += w * g[j]!;
      });
      return {
        loss: parts.reduce((s, part, i) => s + (part.count / n) * replies[i]!.loss!, 0),
        grads,
        computeMs: replies.map((r) => r.computeMs!),
        copyMs: replies.map((r) => r.copyMs!),
      };
    },
    async close() { await Promise.all(workers.map((w) => w.terminate())); },
  };
}

/** Gradient map from a flat buffer in the model's trainable order. */
function unflatten(model: PeftModel, flat: Float32Array): tf.NamedTensorMap {
  const map: tf.NamedTensorMap = {};
  let offset = 0;
  for (const p of model.trainableParameters()) {
    map[p.variable.name] = tf.tensor(flat.subarray(offset, offset + p.variable.size), p.variable.shape);
    offset += p.variable.size;
  }
  return map;
}

const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
const table: string[] = [];
for (const mode of values.modes!.split(',') as SettingName[]) {
  const built = await buildSetting(vit, mode, NUM_CLASSES);
  if ('skip' in built) {
    console.log(`${mode}: skipped: ${built.skip}`);
    continue;
  }
  const { model } = built;
  const pool = await createPool(model, mode);
  for (const batch of batches) {
    const x = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % NUM_CLASSES), 'int32'), NUM_CLASSES) as tf.Tensor2D;
    // Single thread: the reference step.
    const single = tf.train.adam(1e-4);
    const train = createTrainStep(model, single, { microBatch });
    train(x, y);
    const singleTimes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      train(x, y);
      singleTimes.push((performance.now() - t0) / 1000);
    }
    single.dispose();
    // Data-parallel.
    pool.writeParams();
    if (values.check) {
      const reference = batchGradients(model, model.trainableVariables(), x, y, microBatch);
      const { grads } = await pool.step(x, y);
      let offset = 0;
      let maxDiff = 0;
      let maxAbs = 0;
      for (const p of model.trainableParameters()) {
        const r = reference.grads[p.variable.name]!.dataSync();
        for (let j = 0; j < r.length; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(r[j]! - grads[offset + j]!));
          maxAbs = Math.max(maxAbs, Math.abs(r[j]!));
        }
        offset += p.variable.size;
      }
      tf.dispose(reference.grads);
      console.log(`${mode} b${batch}: max |grad(parallel) - grad(single)| = ${maxDiff.toExponential(2)} (max |grad| ${maxAbs.toExponential(2)})`);
    }
    const parallel = tf.train.adam(1e-4);
    const parallelStep = async () => {
      const { grads, computeMs, copyMs } = await pool.step(x, y);
      const t0 = performance.now();
      const map = unflatten(model, grads);
      parallel.applyGradients(map);
      tf.dispose(map);
      pool.writeParams();
      return { computeMs, copyMs, updateMs: performance.now() - t0 };
    };
    await parallelStep();
    const parallelTimes: number[] = [];
    let last = { computeMs: [0], copyMs: [0], updateMs: 0 };
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      last = await parallelStep();
      parallelTimes.push((performance.now() - t0) / 1000);
    }
    parallel.dispose();
    const s1 = median(singleTimes);
    const sp = median(parallelTimes);
    const line = `| ${mode} | ${batch} | ${(batch / s1).toFixed(2)} | ${(batch / sp).toFixed(2)} | ${(s1 / sp).toFixed(2)}× | ${last.computeMs.map((c) => c.toFixed(0)).join(' / ')} | ${last.copyMs.map((c) => c.toFixed(0)).join(' / ')} | ${last.updateMs.toFixed(0)} |`;
    console.log(line);
    table.push(line);
    tf.dispose([x, y]);
  }
  await pool.close();
  model.dispose();
  vit.parameters.freeze();
}
console.log('\n| setting | batch | 1 thread img/s | workers img/s | speed-up | worker compute ms | worker copy ms | main update+sync ms |');
console.log('|---|---|---|---|---|---|---|---|');
for (const line of table) console.log(line);
