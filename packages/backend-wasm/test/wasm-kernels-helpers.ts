import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect } from 'vitest';
import '../src/index';

/** Makes the wasm backend (with vpeft's kernels, registered by importing the package) the active one. */
export async function useWasm(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
}

/** Deterministic uniform values in [-1, 1) (mulberry32), so a failure reproduces. */
export function randomValues(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** A tensor's description that can be rebuilt on any backend. */
export interface Data {
  shape: number[];
  values: Float32Array;
}

/** Random data of `shape`. */
export function data(shape: number[], seed: number): Data {
  return { shape, values: randomValues(shape.reduce((x, y) => x * y, 1), seed) };
}

/** The outputs of `f` computed on `backend` (then wasm is active again), with their shapes. */
export async function compute(
  backend: 'cpu' | 'wasm',
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Array<{ shape: number[]; values: Float32Array }>> {
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(() => {
      const r = f();
      return Array.isArray(r) ? r : [r];
    });
    const result = outs.map((t) => ({ shape: t.shape, values: Float32Array.from(t.dataSync()) }));
    tf.dispose(outs);
    return result;
  } finally {
    await tf.setBackend('wasm');
  }
}

/** Expects equal shapes and values within `rtol` of the reference's largest magnitude. */
export function expectClose(
  actual: Array<{ shape: number[]; values: Float32Array }>,
  expected: Array<{ shape: number[]; values: Float32Array }>,
  rtol = 1e-4,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(actual[i].shape).toEqual(expected[i].shape);
    const e = expected[i].values;
    const a = actual[i].values;
    let scale = 0;
    let err = 0;
    for (let j = 0; j < e.length; j++) {
      scale = Math.max(scale, Math.abs(e[j]));
      err = Math.max(err, Math.abs(a[j] - e[j]));
    }
    expect(Number.isFinite(err)).toBe(true);
    expect(err).toBeLessThanOrEqual(rtol * Math.max(scale, 1e-6));
  }
}

/** `f` on wasm and on cpu, compared. */
export async function expectMatchesCpu(f: () => tf.Tensor | tf.Tensor[], rtol = 1e-4): Promise<void> {
  const actual = await compute('wasm', f);
  const expected = await compute('cpu', f);
  expectClose(actual, expected, rtol);
}

/** A tensor from {@link Data} on the active backend. */
export function t(d: Data): tf.Tensor {
  return tf.tensor(d.values, d.shape);
}

/** Bytes of the wasm heap (it only grows, so a leak shows up as growth). */
export function wasmHeapBytes(): number {
  return ((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8).length;
}
