import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { adapterModelConfig, currentBackend, OptionError, VpeftError, type PeftModel } from '@vpeft/core';
import type { TrainingGradients } from '../gradients';
import { trainingTargets } from '../loss';
import { flatLayout, writeParameters, type FlatLayout } from './flat-parameters';
import type { GradientReply, GradientRequest, GradientWorkerInit } from './protocol';
import { spawnGradientWorker } from './spawn-worker';

/** The loss and gradients of one batch (the caller disposes `grads`). */
export type BatchGradients = Pick<TrainingGradients, 'loss' | 'grads'>;

/** Options for {@link createDataParallelTrainer}. */
export interface DataParallelOptions {
  /**
   * Modules each worker imports before it rebuilds the model (URLs, or absolute paths): plugins that
   * register the model's methods. A module whose default export is a function has it called and
   * awaited (e.g. a plugin discovery). Methods whose package can be imported from `@vpeft/train`
   * need no entry: the worker imports the package the adapter config names.
   */
  imports?: ReadonlyArray<string | URL>;
  /** Worker threads, each with its own backend instance and heap; default: the available cores. */
  workers?: number;
  /** Each worker computes its share in chunks of this many images (bounded memory); default: all at once. */
  microBatch?: number;
}

/** A pool of gradient workers for one model; see {@link createDataParallelTrainer}. */
export interface DataParallelTrainer {
  /** Number of worker threads. */
  readonly workers: number;
  /**
   * The gradient of the mean softmax cross-entropy over the batch w.r.t. the model's trainable
   * variables (keyed by variable name; the caller disposes them) — the batch split across the
   * workers, each running `lossGradients` on its share, weighted by its share. `labels` are class ids
   * `[B]` or targets `[B, numClasses]` (e.g. label-smoothed). Uses the parameters' current values.
   */
  gradients(images: tf.Tensor4D, labels: tf.Tensor): Promise<BatchGradients>;
  /**
   * The model's logits `[B, numClasses]` for `images` in inference mode (as `model.predict`), the
   * batch split across the workers, with the parameters' current values (the caller disposes them).
   */
  predict(images: tf.Tensor4D): Promise<tf.Tensor2D>;
  /** {@link gradients} then `optimizer.applyGradients` on the main thread's variables; returns the loss. */
  step(images: tf.Tensor4D, labels: tf.Tensor, optimizer: tf.Optimizer): Promise<number>;
  /** Stops the workers. */
  dispose(): Promise<void>;
}

/** One worker and a queue of callbacks waiting for its replies. */
class WorkerHandle {
  private waiting: Array<{ resolve: (r: GradientReply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  constructor(readonly worker: Worker, readonly grads: Float32Array) {
    worker.on('message', (reply: GradientReply) => this.waiting.shift()?.resolve(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new VpeftError(`data-parallel worker exited (code ${code})`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  /** Waits for the next reply (after sending `request`, if given). */
  next(request?: GradientRequest): Promise<GradientReply> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<GradientReply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (request) this.worker.postMessage(request);
    return reply.then((r) => {
      if (r.kind === 'error') throw new VpeftError(`data-parallel worker failed: ${r.message}`);
      return r;
    });
  }
}

/** Splits `n` images over `workers` as evenly as possible: [start, count] per worker with images. */
export function splitBatch(n: number, workers: number): Array<{ start: number; count: number }> {
  const parts: Array<{ start: number; count: number }> = [];
  for (let i = 0, start = 0; i < workers; i++) {
    const count = Math.floor(n / workers) + (i < n % workers ? 1 : 0);
    if (count > 0) parts.push({ start, count });
    start += count;
  }
  return parts;
}

function sharedCopy(values: Float32Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(values.byteLength);
  new Float32Array(buffer).set(values);
  return buffer;
}

/**
 * A SharedArrayBuffer reused from step to step (grown when a batch needs more): allocating a fresh
 * zeroed one for each batch's images (19 MB at 32x224x224x3) costs the main thread tens of ms a step
 * while the workers wait. Safe to overwrite: the workers copy their share out before they reply.
 */
class SharedStaging {
  private buffer = new SharedArrayBuffer(0);

  /** The buffer, holding `values` from its start. */
  hold(values: Float32Array): SharedArrayBuffer {
    if (this.buffer.byteLength < values.byteLength) this.buffer = new SharedArrayBuffer(values.byteLength);
    new Float32Array(this.buffer, 0, values.length).set(values);
    return this.buffer;
  }
}

/**
 * Trains one model on several cores: each batch is split across worker threads (each with its own
 * tfjs backend and wasm heap — the wasm backend computes on one thread in Node), their gradients are
 * averaged weighted by image count, and the optimizer updates the main thread's variables. Same step
 * semantics as one thread: the gradient is that of the mean loss over the whole batch (exactly, up to
 * float summation order). Each worker rebuilds the model from its adapter config (the backbone from
 * its config, the methods by name and options, as `saveAdapter` writes them), makes the same
 * parameters trainable and copies every value from this thread's model, so random initialisation or
 * loaded weights need not be reproduced. Parameters, images and gradients travel through
 * SharedArrayBuffers.
 *
 * ```ts
 * const model = applyPeft(createViT('vit_tiny_patch16_224'), [lora()], { numClasses: 10 });
 * const trainer = await createDataParallelTrainer(model, { workers: 2 });
 * const loss = await trainer.step(images, labels, optimizer);
 * await trainer.dispose();
 * ```
 * The trainable set is fixed when the trainer is created.
 */
export async function createDataParallelTrainer(model: PeftModel, options: DataParallelOptions = {}): Promise<DataParallelTrainer> {
  const count = options.workers ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1) throw new OptionError('workers', options.workers, 'a positive integer', 'createDataParallelTrainer');
  if (options.microBatch !== undefined && (!Number.isInteger(options.microBatch) || options.microBatch < 1)) {
    throw new OptionError('microBatch', options.microBatch, 'a positive integer', 'createDataParallelTrainer');
  }
  const backend = currentBackend();
  if (!backend) throw new VpeftError('createDataParallelTrainer: call initBackend() first (the workers use the same backend)');
  const imports = (options.imports ?? []).map((m) => (m instanceof URL ? m.href : m.startsWith('/') ? pathToFileURL(m).href : m));

  const all = model.parameters.list();
  const allValues = new Float32Array(flatLayout(all).size);
  writeParameters(all, flatLayout(all), allValues);
  const trainable = model.trainableParameters();
  const layout: FlatLayout = flatLayout(trainable);
  const params = new SharedArrayBuffer(layout.size * 4);
  const paramView = new Float32Array(params);
  const init: Omit<GradientWorkerInit, 'grads'> = {
    model: { config: adapterModelConfig(model), imports, trainableNames: trainable.map((p) => p.name) },
    backend: backend.choice, fastKernels: backend.fastKernels ?? true, microBatch: options.microBatch,
    allNames: all.map((p) => p.name), allValues: sharedCopy(allValues), params,
  };
  const handles = Array.from({ length: count }, () => {
    const grads = new SharedArrayBuffer(layout.size * 4);
    return new WorkerHandle(spawnGradientWorker({ ...init, grads } satisfies GradientWorkerInit), new Float32Array(grads));
  });
  try {
    await Promise.all(handles.map((h) => h.next()));
  } catch (error) {
    await Promise.all(handles.map((h) => h.worker.terminate()));
    throw error;
  }

  const trainableNames = trainable.map((p) => p.name).join('\n');
  const imageStaging = new SharedStaging();
  const targetStaging = new SharedStaging();
  // The weighted sum of the workers' gradients, reused (the tensors made from it copy it).
  const sum = new Float32Array(layout.size);
  /** Publishes the current parameter values and the batch's images to the workers; returns each worker's share. */
  async function shareBatch(images: tf.Tensor4D): Promise<{ parts: Array<{ start: number; count: number }>; request: Pick<GradientRequest, 'images' | 'imageShape'> }> {
    if (model.trainableParameters().map((p) => p.name).join('\n') !== trainableNames) {
      throw new VpeftError('createDataParallelTrainer: the model\'s trainable parameters changed since the trainer was created; create a new trainer');
    }
    writeParameters(trainable, layout, paramView);
    const imageBuffer = imageStaging.hold((await images.data()) as Float32Array);
    return { parts: splitBatch(images.shape[0], handles.length), request: { images: imageBuffer, imageShape: images.shape.slice(1) as [number, number, number] } };
  }

  async function gradients(images: tf.Tensor4D, labels: tf.Tensor): Promise<BatchGradients> {
    const n = images.shape[0];
    if (labels.shape[0] !== n) throw new OptionError('labels', `${labels.shape[0]} rows`, `${n} rows (one per image)`, 'DataParallelTrainer.gradients');
    const { parts, request } = await shareBatch(images);
    const targetTensor = tf.tidy(() => trainingTargets(labels, model.numClasses));
    const targetBuffer = targetStaging.hold((await targetTensor.data()) as Float32Array);
    targetTensor.dispose();
    const replies = await Promise.all(parts.map((part, i) => handles[i]!.next({ ...request, targets: targetBuffer, ...part })));
    sum.fill(0);
    let loss = 0;
    parts.forEach((part, i) => {
      const share = part.count / n;
      const g = handles[i]!.grads;
      for (let j = 0; j < sum.length; j++) sum[j] += share * g[j]!;
      loss += share * (replies[i] as { loss: number }).loss;
    });
    const grads: tf.NamedTensorMap = {};
    trainable.forEach((p, i) => {
      const { offset, size } = layout.entries[i]!;
      grads[p.variable.name] = tf.tensor(sum.subarray(offset, offset + size), p.variable.shape, 'float32');
    });
    return { loss, grads };
  }

  async function predict(images: tf.Tensor4D): Promise<tf.Tensor2D> {
    const { parts, request } = await shareBatch(images);
    const replies = await Promise.all(parts.map((part, i) => handles[i]!.next({ kind: 'logits', ...request, ...part })));
    const classes = model.numClasses;
    const logits = new Float32Array(images.shape[0] * classes);
    parts.forEach((part, i) => logits.set((replies[i] as { logits: Float32Array }).logits, part.start * classes));
    return tf.tensor2d(logits, [images.shape[0], classes]);
  }

  return {
    workers: handles.length,
    gradients,
    predict,
    async step(images, labels, optimizer) {
      const { loss, grads } = await gradients(images, labels);
      optimizer.applyGradients(grads);
      tf.dispose(grads);
      return loss;
    },
    async dispose() {
      await Promise.all(handles.map((h) => h.worker.terminate()));
    },
  };
}
