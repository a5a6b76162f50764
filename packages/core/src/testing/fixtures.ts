import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone/backbone';
import { createViT } from '../vit/vit';

/**
 * A tiny ViT (`vit_test_patch8_32`: 2 blocks, width 32, 32x32 input) whose biases, norms and
 * embeddings are randomised too, so no parameter is trivially zero or one. Same seed, same weights.
 */
export function createTestViT(seed = 1): Backbone {
  const vit = createViT('vit_test_patch8_32', { seed });
  let i = 0;
  for (const p of vit.parameters.list()) {
    const noise = tf.randomNormal(p.variable.shape, 0, 0.05, 'float32', seed * 1000 + i++);
    const value = tf.add(p.variable, noise);
    p.variable.assign(value);
    noise.dispose();
    value.dispose();
  }
  return vit;
}

/** Seeded random NHWC images and labels for a backbone's input size. */
export function randomBatch(backbone: Backbone, batch: number, numClasses: number, seed = 7): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = backbone.inputShape;
  const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', seed) as tf.Tensor4D;
  const labels = Array.from({ length: batch }, (_, i) => (i * 7 + seed) % numClasses);
  return { x, y: tf.tensor1d(labels, 'int32') };
}

/** Snapshot of every variable's values, by name. */
export function snapshot(variables: Iterable<{ name: string; variable: tf.Variable }>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const { name, variable } of variables) out.set(name, (variable.dataSync() as Float32Array).slice());
  return out;
}

/**
 * {@link snapshot} reading with `await data()`: works on every backend (webgpu in Node has no
 * synchronous reads).
 */
export async function snapshotAsync(variables: Iterable<{ name: string; variable: tf.Variable }>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const { name, variable } of variables) out.set(name, await read(variable));
  return out;
}

/** A tensor's values as float32, read asynchronously (every backend). */
export async function read(tensor: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await tensor.data());
}

/** Largest absolute difference between two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** True when the two arrays are bit-identical. */
export function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}
