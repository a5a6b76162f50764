import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch, read, trainStepsAsync } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { describe, expect, it } from 'vitest';
import { webGpuAdapter } from '../src/index';

async function trainOnce(): Promise<{ losses: number[]; logits: Float32Array }> {
  const backbone = createTestViT(3);
  const model = applyPeft(backbone, lora({ r: 4 }), { numClasses: 5 });
  const batch = randomBatch(backbone, 4, 5);
  const losses = await trainStepsAsync(model, batch, 3, { learningRate: 1e-2 });
  const logits = model.predict(batch.x);
  const values = await read(logits);
  tf.dispose([batch.x, batch.y, logits]);
  model.dispose({ backbone: true });
  return { losses, logits: values };
}

describe('webgpu backend (Dawn over SwiftShader)', () => {
  it('is chosen when asked for, names its adapter, and is never picked by auto when software', async () => {
    const info = await initBackend({ backend: 'webgpu' });
    expect(info.choice).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.device).toMatch(/SwiftShader.*\(software\)/);
    expect(webGpuAdapter()?.software).toBe(true);
    const auto = await initBackend({ backend: 'auto' });
    expect(auto.choice).toBe('wasm');
  });

  it('trains LoRA to the same losses and logits as the wasm backend', async () => {
    await initBackend({ backend: 'webgpu' });
    const gpu = await trainOnce();
    await initBackend({ backend: 'wasm' });
    const wasm = await trainOnce();
    expect(gpu.losses[2]!).toBeLessThan(gpu.losses[0]!);
    expect(maxAbsDiff(gpu.losses, wasm.losses)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gpu.logits, wasm.logits)).toBeLessThan(1e-3);
  });
});
