import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';

describe('initBackend', () => {
  it('picks wasm on a machine without tfjs-node and computes on it', async () => {
    const info = await initBackend();
    expect(info.choice).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(await y.data())).toEqual([11]);
  });

  it('loads @vpeft/backend-wasm: tfjs gradients and the fast kernels, or the stock kernels with fastKernels: false', async () => {
    // Conv2DBackpropFilter is one of the kernels stock tfjs-backend-wasm lacks (vpeft adds it).
    expect((await initBackend()).fastKernels).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getGradient('Add')).toBeDefined();
    expect((await initBackend({ fastKernels: false })).fastKernels).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect((await initBackend()).fastKernels).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('names the package to install for an absent backend', async () => {
    await expect(initBackend({ backend: 'tfjs-node' })).rejects.toThrow(/@tensorflow\/tfjs-node/);
  });
});
