import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { readSafetensors } from '../src/io/safetensors';
import { maxAbsDiff } from '../src/testing/fixtures';
import { loadViT } from '../src/vit/timm-weights';
import type { ViT } from '../src/vit/vit';

// Fixture made by test/fixtures/make_vit_fixture.py from torchvision's VisionTransformer
// (random weights, converted to timm names), with logits computed by PyTorch.
const weightsPath = fileURLToPath(new URL('./fixtures/vit-parity.safetensors', import.meta.url));
interface Case { inputs: number[][][][]; logits: number[][]; features: number[][] }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/vit-parity.json', import.meta.url), 'utf8')) as Case & {
  interp_antialias: Case & { image_size: number; pos_embed: { shape: number[]; data: number[] } };
};

let vit: ViT;
let head: { weight: tf.Tensor2D; bias: tf.Tensor1D };

beforeAll(async () => {
  await initBackend();
  vit = await loadViT({ config: 'vit_test_patch8_32', weights: weightsPath });
  const file = await readSafetensors(weightsPath);
  const w = file.tensors.get('head.weight')!;
  const b = file.tensors.get('head.bias')!;
  head = { weight: tf.transpose(tf.tensor2d(w.data, w.shape as [number, number])), bias: tf.tensor1d(b.data) };
});

function logitsOf(features: tf.Tensor2D): number[][] {
  return tf.tidy(() => tf.add(tf.matMul(features, head.weight), head.bias).arraySync() as number[][]);
}

describe('ViT parity with torchvision (timm names)', () => {
  it('reproduces the pre-logits features and logits to 1e-4', () => {
    const x = tf.tensor4d(fixture.inputs);
    const features = vit.forward(x);
    expect(maxAbsDiff(features.dataSync(), fixture.features.flat())).toBeLessThan(1e-4);
    expect(maxAbsDiff(logitsOf(features).flat(), fixture.logits.flat())).toBeLessThan(1e-4);
    tf.dispose([x, features]);
  });

  it("resamples the position embedding as timm does (bicubic, antialias) and matches logits at 48x48", () => {
    const c = fixture.interp_antialias;
    const grid = c.image_size / 8;
    const pos = vit.positionEmbedding(grid, grid);
    expect(pos.shape).toEqual(c.pos_embed.shape);
    expect(maxAbsDiff(pos.dataSync(), c.pos_embed.data)).toBeLessThan(1e-5);
    const x = tf.tensor4d(c.inputs);
    const features = vit.forward(x);
    expect(maxAbsDiff(logitsOf(features).flat(), c.logits.flat())).toBeLessThan(1e-4);
    tf.dispose([pos, x, features]);
  });

  it('rejects a checkpoint for another architecture, naming the missing keys', async () => {
    await expect(loadViT({ config: { base: 'vit_test_patch8_32', depth: 3 }, weights: weightsPath })).rejects.toThrow(/missing 12 key\(s\): blocks\.2\./);
  });
});
