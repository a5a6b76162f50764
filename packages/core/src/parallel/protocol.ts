import type { BackendChoice } from '../backend/backend';

/** workerData of a gradient worker. */
export interface GradientWorkerInit {
  /** URL of the ESM module whose `createModel()` builds the model (worker side). */
  modelModule: string;
  backend: BackendChoice;
  fastKernels: boolean;
  microBatch?: number;
  /** All parameter names in order (checked against the worker's model) and their values. */
  allNames: string[];
  allValues: SharedArrayBuffer;
  /** Trainable parameter names in order; their values are re-read from `params` before every step. */
  trainableNames: string[];
  params: SharedArrayBuffer;
  /** This worker's gradient output, in the trainable layout. */
  grads: SharedArrayBuffer;
}

/** Main → worker: compute the gradient over images [start, start + count) of the shared batch. */
export interface GradientRequest {
  images: SharedArrayBuffer;
  /** Targets `[B, numClasses]` as float32. */
  targets: SharedArrayBuffer;
  imageShape: [number, number, number];
  start: number;
  count: number;
}

/** Worker → main. */
export type GradientReply =
  | { kind: 'ready' }
  | { kind: 'gradients'; loss: number }
  | { kind: 'error'; message: string };
