import type { BackendChoice } from '@vpeft/core';
import type { WorkerModelSpec } from './worker-model';

/** workerData of a gradient worker. */
export interface GradientWorkerInit {
  /** How the worker rebuilds the main thread's model. */
  model: WorkerModelSpec;
  backend: BackendChoice;
  fastKernels: boolean;
  microBatch?: number;
  /** All parameter names in order (checked against the worker's model) and their values. */
  allNames: string[];
  allValues: SharedArrayBuffer;
  /** The trainable parameters' values (in `model.trainableNames` order), re-read before every step. */
  params: SharedArrayBuffer;
  /** This worker's gradient output, in the trainable layout. */
  grads: SharedArrayBuffer;
}

/**
 * Main → worker: compute the gradient over images [start, start + count) of the shared batch
 * (`kind` 'gradients', the default), or their logits in inference mode (`kind` 'logits').
 */
export interface GradientRequest {
  kind?: 'gradients' | 'logits';
  images: SharedArrayBuffer;
  /** Targets `[B, numClasses]` as float32 (gradient requests only). */
  targets?: SharedArrayBuffer;
  imageShape: [number, number, number];
  start: number;
  count: number;
}

/** Worker → main. */
export type GradientReply =
  | { kind: 'ready' }
  | { kind: 'gradients'; loss: number }
  | { kind: 'logits'; logits: Float32Array }
  | { kind: 'error'; message: string };
