/**
 * A data-parallel gradient worker (worker_threads): its own tfjs + wasm instance and heap. Builds the
 * same ViT setting as the main thread (same seed: identical weights), then on every `step` message
 * reads the trainable parameters and its share of the batch from shared memory, computes the mean
 * gradient over its images and writes it into its own shared gradient buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { createViT, initBackend } from '@vpeft/core';
import { buildSetting, type SettingName } from './settings';
import { batchGradients } from './train-step';

/** What the main thread passes as workerData. */
export interface GradientWorkerData {
  mode: SettingName;
  numClasses: number;
  fastKernels: boolean;
  microBatch: number;
  /** Trainable parameters in order: name and element count. */
  layout: Array<{ name: string; size: number }>;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
}

/** A step request: this worker's images are [start, start + count) of the shared batch. */
export interface StepMessage { start: number; count: number }

const data = workerData as GradientWorkerData;
await initBackend({ backend: 'wasm', fastKernels: data.fastKernels });
const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
const built = await buildSetting(vit, data.mode, data.numClasses);
if ('skip' in built) throw new Error(`worker: setting ${data.mode} unavailable: ${built.skip}`);
const { model } = built;
const parameters = model.trainableParameters();
const names = parameters.map((p) => p.name).join(',');
if (names !== data.layout.map((l) => l.name).join(',')) throw new Error('worker: trainable parameters differ from the main thread\'s');
const variables = parameters.map((p) => p.variable);
const params = new Float32Array(data.params);
const grads = new Float32Array(data.grads);
const images = new Float32Array(data.images);
const labels = new Float32Array(data.labels);
const PIXELS = 224 * 224 * 3;

parentPort!.on('message', (message: StepMessage) => {
  const t0 = performance.now();
  let offset = 0;
  for (const v of variables) {
    tf.tidy(() => v.assign(tf.tensor(params.subarray(offset, offset + v.size), v.shape, 'float32')));
    offset += v.size;
  }
  const x = tf.tensor4d(images.subarray(message.start * PIXELS, (message.start + message.count) * PIXELS), [message.count, 224, 224, 3]);
  const y = tf.tensor2d(labels.subarray(message.start * data.numClasses, (message.start + message.count) * data.numClasses), [message.count, data.numClasses]);
  const t1 = performance.now();
  const result = batchGradients(model, variables, x, y, data.microBatch);
  const t2 = performance.now();
  offset = 0;
  for (const v of variables) {
    grads.set(result.grads[v.name]!.dataSync() as Float32Array, offset);
    offset += v.size;
  }
  tf.dispose([x, y, result.grads]);
  parentPort!.postMessage({ loss: result.loss, computeMs: t2 - t1, copyMs: t1 - t0 + performance.now() - t2 });
});
parentPort!.postMessage({ ready: true });
