import * as tf from '@tensorflow/tfjs-core';

/** Reported through `onProgress` after every optimizer step. */
export interface ProgressEvent {
  /** Optimizer steps completed (1 after the first step). */
  step: number;
  totalSteps: number;
  /** Epoch of the step just taken (0-based). */
  epoch: number;
  /** Mean training loss of the step. */
  loss: number;
  /** Learning rate the step used. */
  lr: number;
  /** Global gradient norm before clipping (only when `gradientClip` is set). */
  gradientNorm?: number;
  /** Images per second over the steps of this run so far (excluding checkpoint and evaluation time). */
  imagesPerSecond: number;
  /** Estimated seconds to the end of training at the current rate. */
  etaSeconds: number;
  /** Live tensors (`tf.memory().numTensors`) after the step's batch is disposed. */
  numTensors: number;
  /** Bytes held by live tensors (`tf.memory().numBytes`). */
  memoryBytes: number;
  /** Peak tensor memory so far in this run, sampled after each forward pass (when the tape holds every activation). */
  peakMemoryBytes: number;
  /** Size of the wasm heap (it only grows, so this is its peak); undefined on other backends. */
  wasmHeapBytes?: number;
}

/** Size of the wasm backend's heap in bytes, or undefined on other backends. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array; wasmMemory?: { buffer: ArrayBuffer } } };
  return backend.wasm?.HEAPU8?.byteLength ?? backend.wasm?.wasmMemory?.buffer.byteLength;
}

/** Tracks throughput (trained images over step time) and the memory peak of a run. */
export class ThroughputMeter {
  private images = 0;
  private seconds = 0;
  private peakBytes = 0;

  /** Records one step of `images` images that took `seconds`. */
  record(images: number, seconds: number): void {
    this.images += images;
    this.seconds += seconds;
  }

  /** Images per second so far (0 before any step). */
  get imagesPerSecond(): number {
    return this.seconds > 0 ? this.images / this.seconds : 0;
  }

  /** Seconds per step so far, times the steps left. */
  etaSeconds(stepsDone: number, stepsLeft: number): number {
    return stepsDone > 0 ? (this.seconds / stepsDone) * stepsLeft : 0;
  }

  /** Current memory figures; `stepPeakBytes` (sampled inside the step) raises the peak. */
  memory(stepPeakBytes = 0): { numTensors: number; memoryBytes: number; peakMemoryBytes: number; wasmHeapBytes?: number } {
    const { numTensors, numBytes } = tf.memory();
    this.peakBytes = Math.max(this.peakBytes, numBytes, stepPeakBytes);
    const heap = wasmHeapBytes();
    return { numTensors, memoryBytes: numBytes, peakMemoryBytes: this.peakBytes, ...(heap !== undefined ? { wasmHeapBytes: heap } : {}) };
  }
}
