import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@vpeft/core';

/** Where each parameter lives in a flat float32 buffer: names in order, with offsets and sizes. */
export interface FlatLayout {
  entries: Array<{ name: string; offset: number; size: number }>;
  /** Total number of floats. */
  size: number;
}

/** The layout of `parameters` packed one after another in their order. */
export function flatLayout(parameters: readonly Parameter[]): FlatLayout {
  let offset = 0;
  const entries = parameters.map((p) => {
    const entry = { name: p.name, offset, size: p.variable.size };
    offset += p.variable.size;
    return entry;
  });
  return { entries, size: offset };
}

/** Copies the parameters' current values into `target` at their layout offsets. */
export function writeParameters(parameters: readonly Parameter[], layout: FlatLayout, target: Float32Array): void {
  parameters.forEach((p, i) => target.set(p.variable.dataSync() as Float32Array, layout.entries[i]!.offset));
}

/** Assigns each parameter its values from `source` at its layout offset. */
export function readParameters(parameters: readonly Parameter[], layout: FlatLayout, source: Float32Array): void {
  parameters.forEach((p, i) => {
    const { offset, size } = layout.entries[i]!;
    tf.tidy(() => p.variable.assign(tf.tensor(source.subarray(offset, offset + size), p.variable.shape, 'float32')));
  });
}
