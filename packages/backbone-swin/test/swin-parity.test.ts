import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, readSafetensors } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportSwinWeights, loadSwin, resolveSwinConfig, swinParameterSpecs, type Swin } from '../src/index';

// Fixture made by fixtures/make_swin_fixture.py: torchvision's SwinTransformer (the swin_t architecture
// at width 8, depths 2-2-2-1, window 2, 32x32 input) with random weights, renamed to timm's names.
const weightsPath = fileURLToPath(new URL('./fixtures/swin-parity.safetensors', import.meta.url));
const fixture = JSON.parse(readFileSync(new URL('./fixtures/swin-parity.json', import.meta.url), 'utf8')) as {
  inputs: number[][][][];
  logits: number[][];
  features: number[][];
  swin_b_parameters: number;
};

let swin: Swin;
beforeAll(async () => {
  await initBackend();
  swin = await loadSwin({ config: 'swin_test_patch2_window2_32', weights: weightsPath });
});

describe('Swin parity with torchvision (timm names)', () => {
  it('reproduces the pooled features and the logits to 1e-4 (shifted windows, masks, merging)', async () => {
    const x = tf.tensor4d(fixture.inputs);
    const features = swin.forward(x);
    expect(maxAbsDiff(features.dataSync(), fixture.features.flat())).toBeLessThan(1e-4);
    const file = await readSafetensors(weightsPath);
    const w = file.tensors.get('head.fc.weight')!;
    const b = file.tensors.get('head.fc.bias')!;
    const logits = tf.tidy(() => tf.add(tf.matMul(features, tf.tensor2d(w.data, w.shape as [number, number]), false, true), tf.tensor1d(b.data)));
    expect(maxAbsDiff(logits.dataSync(), fixture.logits.flat())).toBeLessThan(1e-4);
    tf.dispose([x, features, logits]);
  });

  it('training mode without drop-path gives the same features', () => {
    const x = tf.tensor4d(fixture.inputs);
    const features = swin.forward(x, { training: true });
    expect(maxAbsDiff(features.dataSync(), fixture.features.flat())).toBeLessThan(1e-4);
    tf.dispose([x, features]);
  });

  it('exports the weights it loaded (timm names, PyTorch layouts)', async () => {
    const file = await readSafetensors(weightsPath);
    const exported = exportSwinWeights(swin);
    for (const [name, t] of exported) {
      const original = file.tensors.get(name)!;
      expect(t.shape, name).toEqual(original.shape);
      expect(maxAbsDiff(t.data, original.data), name).toBe(0);
    }
  });

  it('rejects a checkpoint for another config, naming the keys', async () => {
    await expect(loadSwin({ config: { base: 'swin_test_patch2_window2_32', depths: [2, 2, 2, 2] }, weights: weightsPath })).rejects.toThrow(/missing 1\d key\(s\): layers\.3\.blocks\.1\./);
  });
});

describe('Swin parameter counts', () => {
  // The shapes the constructor allocates (allocating Swin-B's 87M random values would take minutes here);
  // the parity test above loads every one of them from a torchvision checkpoint.
  const count = (name: 'swin_base_patch4_window7_224' | 'swin_tiny_patch4_window7_224') =>
    swinParameterSpecs(resolveSwinConfig(name)).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  // Per block of width d, h heads, window w: norms 4d, qkv 3d² + 3d, proj d² + d, fc1 4d² + 4d, fc2 4d² + d,
  // relative position bias (2w − 1)²·h  →  12d² + 13d + (2w − 1)²·h. Patch merging from width d: norm 8d,
  // reduction 4d·2d. Patch embedding: P²·3·D + D, its norm 2D; final norm 2·width.
  function swinCount(embed: number, depths: number[], heads: number[], window = 7, patch = 4): number {
    let n = patch * patch * 3 * embed + embed + 2 * embed;
    depths.forEach((depth, s) => {
      const d = embed * 2 ** s;
      if (s > 0) n += 8 * (d / 2) + 4 * (d / 2) * d;
      n += depth * (12 * d * d + 13 * d + (2 * window - 1) ** 2 * heads[s]!);
    });
    return n + 2 * embed * 2 ** (depths.length - 1);
  }

  it('Swin-B: 86,743,224 backbone parameters (torchvision swin_b 87,768,224 minus its 1024x1000 head)', () => {
    const expected = swinCount(128, [2, 2, 18, 2], [4, 8, 16, 32]);
    expect(expected).toBe(fixture.swin_b_parameters - (1024 * 1000 + 1000));
    expect(expected).toBe(86_743_224);
    expect(count('swin_base_patch4_window7_224')).toBe(expected);
  });

  it('Swin-T: 27,519,354 backbone parameters (timm/torchvision 28,288,354 minus the 768x1000 head)', () => {
    const expected = swinCount(96, [2, 2, 6, 2], [3, 6, 12, 24]);
    expect(expected).toBe(28_288_354 - (768 * 1000 + 1000));
    expect(count('swin_tiny_patch4_window7_224')).toBe(expected);
  });
});
