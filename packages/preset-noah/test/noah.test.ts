import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, getPreset, initBackend, loadPeftModel, OptionError, type ViT } from '@vpeft/core';
import { bitEqual, createTestViT, maxAbsDiff, snapshot, trainSteps } from '@vpeft/core/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOAH_CIFAR100_SUBNET, noah } from '../src/index';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * NOAH's trainable parameters besides the head, from its modules' shapes: prompts p·D per block, LoRA
 * r·(D + 3D) on the fused qkv, adapter D·m + m + m·D + D (two linears with biases) where m > 0.
 */
function noahCount(d: number, o: { prompts: number[]; lora: number[]; adapter: number[] }): number {
  return sum(o.prompts) * d + sum(o.lora) * (d + 3 * d) + sum(o.adapter.filter((m) => m > 0).map((m) => 2 * d * m + m + d));
}

beforeAll(async () => {
  await initBackend();
});

describe('the noah preset on ViT-B/16', () => {
  let vit: ViT;
  beforeAll(() => {
    vit = createViT('vit_base_patch16_224');
  });
  afterAll(() => vit.dispose());

  it("counts NOAH's CIFAR-100 subnet from the formula: 320,330 besides the head", () => {
    const model = applyPeft(vit, noah(), { numClasses: 100 });
    expect(model.summary().trainableExcludingHead).toBe(noahCount(768, NOAH_CIFAR100_SUBNET));
    expect(noahCount(768, NOAH_CIFAR100_SUBNET)).toBe(69 * 768 + 47 * 3072 + (2 * 768 * 74 + 74 + 12 * 768));
    expect(model.parameters.get('noah-vpt.blocks.3.tokens.prompts').variable.shape).toEqual([1, 1, 768]);
    expect(model.parameters.get('noah-lora-r10.blocks.9.attn.qkv.lora_A').variable.shape).toEqual([768, 10]);
    model.dispose();
  });

  it('is registered for the CLI (`--method noah`) with the subnet as its defaults', () => {
    expect(getPreset('noah').defaults).toEqual(NOAH_CIFAR100_SUBNET);
  });
});

describe('a NOAH subnet on a tiny ViT (D 32, 2 blocks)', () => {
  const subnet = { prompts: [2, 3], lora: [1, 0], adapter: [0, 4] };

  it('has per-block modules only where the dims are non-zero', () => {
    const model = applyPeft(createTestViT(), noah(subnet), { numClasses: 3 });
    expect(model.summary().trainableExcludingHead).toBe(noahCount(32, subnet));
    const names = model.trainableParameters().map((p) => p.name).filter((n) => !n.startsWith('head'));
    expect(names.filter((n) => n.startsWith('noah-lora-r1.')).every((n) => n.startsWith('noah-lora-r1.blocks.0.'))).toBe(true);
    expect(names.filter((n) => n.startsWith('noah-adapter.')).every((n) => n.startsWith('noah-adapter.blocks.1.'))).toBe(true);
    expect(model.parameters.get('noah-vpt.blocks.1.tokens.prompts').variable.shape).toEqual([1, 3, 32]);
    model.dispose({ backbone: true });
  });

  it('trains only its own parameters and the head, and saves and loads as its three methods', async () => {
    const model = applyPeft(createTestViT(), noah(subnet), { numClasses: 3 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = snapshot(model.parameters.list());
    trainSteps(model, { x, y: tf.tensor1d([0, 2], 'int32') }, 2, { learningRate: 1e-2 });
    for (const p of model.parameters.list()) expect(bitEqual(before.get(p.name)!, p.variable.dataSync() as Float32Array), p.name).toBe(!p.trainable);

    const dir = mkdtempSync(join(tmpdir(), 'noah-'));
    try {
      await model.saveAdapter(dir);
      const loaded = await loadPeftModel(createTestViT(), dir);
      const [a, b] = [model.predict(x), loaded.predict(x)];
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-5);
      tf.dispose([a, b]);
      loaded.dispose({ backbone: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    x.dispose();
    model.dispose({ backbone: true });
  });

  it('keeps the previous block\'s prompts through a block with none (NOAH: a 0 leaves the sequence as is)', () => {
    const model = applyPeft(createTestViT(), noah({ prompts: [2, 0], lora: [0, 0], adapter: [0, 1] }), { numClasses: 3 });
    expect(model.summary().trainableExcludingHead).toBe(2 * 32 + (2 * 32 + 1 + 32));
    const logits = model.predict(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D);
    expect(logits.shape).toEqual([1, 3]);
    logits.dispose();
    model.dispose({ backbone: true });
  });

  it('refuses dims that are not one per block, in one line naming the option', () => {
    expect(() => noah({ prompts: [2, 3], lora: [1], adapter: [0, 4] })).toThrow(OptionError);
    expect(() => noah({ prompts: [2, 3], lora: [1], adapter: [0, 4] })).toThrow(/noah: option `lora` got \[1\]; expected 2 entries/);
    expect(() => applyPeft(createTestViT(), noah({ prompts: [1, 1, 1], lora: [0, 0, 0], adapter: [0, 0, 0] }), { numClasses: 2 })).toThrow(
      /vpt: option `perBlock` got \[1,1,1\]; expected one entry per block \(2 on this backbone\)/,
    );
  });
});
