import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from './random';

/**
 * An initializer makes a tensor of a given shape from a seeded random source. Fan-in/fan-out
 * follow PyTorch's convention for a tensor stored as [in, out] (tfjs layout): fanIn = shape[0].
 */
export type Initializer = (shape: number[], random: () => number) => tf.Tensor;

function fill(shape: number[], sample: () => number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = sample();
  return tf.tensor(values, shape, 'float32');
}

function gaussian(random: () => number): number {
  // Box-Muller; 1 - u avoids log(0).
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fan-in of a weight stored [in, out] (linear) or [kh, kw, in, out] (conv). */
export function fanIn(shape: readonly number[]): number {
  if (shape.length <= 1) return shape[0] ?? 1;
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** Fan-out of a weight stored [in, out] or [kh, kw, in, out]. */
export function fanOut(shape: readonly number[]): number {
  if (shape.length <= 1) return shape[0] ?? 1;
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return shape[shape.length - 1]! * receptive;
}

/** Built-in initializers. */
export const init = {
  zeros: (): Initializer => (shape) => tf.zeros(shape),
  ones: (): Initializer => (shape) => tf.ones(shape),
  constant: (value: number): Initializer => (shape) => tf.fill(shape, value),
  uniform: (low: number, high: number): Initializer => (shape, random) => fill(shape, () => low + (high - low) * random()),
  normal: (mean = 0, std = 1): Initializer => (shape, random) => fill(shape, () => mean + std * gaussian(random)),
  /** Normal truncated to [mean - 2std, mean + 2std] by resampling (timm's trunc_normal_ with default a/b scaled). */
  truncatedNormal: (std = 0.02, mean = 0): Initializer => (shape, random) =>
    fill(shape, () => {
      for (;;) {
        const z = gaussian(random);
        if (Math.abs(z) <= 2) return mean + std * z;
      }
    }),
  /** PyTorch's kaiming_uniform_(a) with fan_in mode and leaky_relu gain: bound = sqrt(6 / ((1 + a²) fanIn)). */
  kaimingUniform: (a = Math.sqrt(5), fan?: number): Initializer => (shape, random) => {
    const bound = Math.sqrt(6 / ((1 + a * a) * (fan ?? fanIn(shape))));
    return fill(shape, () => -bound + 2 * bound * random());
  },
  /** Glorot/Xavier uniform: bound = sqrt(6 / (fanIn + fanOut)). */
  xavierUniform: (): Initializer => (shape, random) => {
    const bound = Math.sqrt(6 / (fanIn(shape) + fanOut(shape)));
    return fill(shape, () => -bound + 2 * bound * random());
  },
} as const;

/** Runs an initializer with a PRNG seeded by `seed`. */
export function initialize(initializer: Initializer, shape: number[], seed: number): tf.Tensor {
  return initializer(shape, mulberry32(seed));
}
