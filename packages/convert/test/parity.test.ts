import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadViT, type TensorData } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, writeConverted, type CheckpointLayout, type ConvertOptions } from '../src/index';

// Fixtures made by fixtures/make_convert_fixtures.py: random weights in each foreign layout, with the
// features (and logits) PyTorch computed — torchvision's ViT for npz/hf, transcriptions of DINOv2's
// and CLIP's forwards for dinov2/clip.
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const json = <T,>(name: string) => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;
interface Expected { inputs: number[][][][]; features: number[][]; logits?: number[][] }

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'vpeft-convert-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Converts, writes timm safetensors, loads them back by path alone (metadata config), runs the ViT. */
async function run(from: CheckpointLayout, file: string, expected: Expected, options: ConvertOptions = {}) {
  const converted = await convertCheckpoint(from, fixture(file), options);
  const out = join(dir, `${from}-${expected.inputs[0]!.length}.safetensors`);
  await writeConverted(out, converted, file);
  const vit = await loadViT({ weights: out });
  const x = tf.tensor4d(expected.inputs);
  const features = vit.forward(x);
  const result = { converted, vit, features: features.arraySync() as number[][], featureDiff: maxAbsDiff(features.dataSync(), expected.features.flat()) };
  tf.dispose([x, features]);
  vit.dispose();
  return result;
}

function logits(features: number[][], head: { weight: TensorData; bias: TensorData }): number[] {
  return tf.tidy(() => {
    const w = tf.tensor2d(head.weight.data, head.weight.shape as [number, number]);
    return Array.from(tf.add(tf.matMul(tf.tensor2d(features), w, false, true), tf.tensor1d(head.bias.data)).dataSync());
  });
}

describe('checkpoint layouts match PyTorch (features and logits to 1e-4)', () => {
  it('Google/big_vision .npz: torchvision ViT weights in Flax naming', async () => {
    const expected = json<Expected>('big-vision.json');
    const { converted, features, featureDiff } = await run('npz', 'big-vision.npz', expected);
    expect(converted.config).toMatchObject({ imageSize: 32, patchSize: 8, embedDim: 32, depth: 2, numHeads: 4, mlpDim: 128 });
    expect(featureDiff).toBeLessThan(1e-4);
    const head = { weight: converted.tensors.get('head.weight')!, bias: converted.tensors.get('head.bias')! };
    expect(maxAbsDiff(logits(features, head), expected.logits!.flat())).toBeLessThan(1e-4);
  });

  it('Hugging Face transformers ViT: query/key/value fused, pooler dropped, eps from config.json', async () => {
    const expected = json<Expected>('hf-vit.json');
    const { converted, features, featureDiff } = await run('hf', 'hf-vit.safetensors', expected, { hfConfig: fixture('hf-vit.config.json') });
    expect(converted.config).toMatchObject({ numHeads: 4, layerNormEps: 1e-12 });
    expect(converted.notes.join('\n')).toMatch(/pooler/);
    expect(featureDiff).toBeLessThan(1e-4);
    const head = { weight: converted.tensors.get('head.weight')!, bias: converted.tensors.get('head.bias')! };
    expect(maxAbsDiff(logits(features, head), expected.logits!.flat())).toBeLessThan(1e-4);
  });

  const dino = json<{ cases: Record<string, Expected & { features_without_registers: number[][] }> }>('dinov2.json');
  it('DINOv2 with registers and layer scale, at its native grid (56 px)', async () => {
    const { converted, featureDiff } = await run('dinov2', 'dinov2.safetensors', dino.cases['56']!, { numHeads: 4 });
    expect(converted.config).toMatchObject({ patchSize: 14, imageSize: 56, registerTokens: 2, noEmbedClass: true, layerScale: 1e-5 });
    expect(featureDiff).toBeLessThan(1e-4);
  });

  it("DINOv2 at 42 px: the position embedding interpolated as DINOv2's interpolate_pos_encoding", async () => {
    const { converted, featureDiff } = await run('dinov2', 'dinov2.safetensors', dino.cases['42']!, { numHeads: 4, imageSize: 42 });
    expect(converted.notes.join('\n')).toMatch(/4x4 -> 3x3/);
    expect(featureDiff).toBeLessThan(1e-4);
  });

  it('DINOv2 without register tokens', async () => {
    const source = (await import('@vpeft/core')).readSafetensors;
    const file = await source(fixture('dinov2.safetensors'));
    file.tensors.delete('register_tokens');
    const { fromDinov2 } = await import('../src/index');
    const converted = fromDinov2(file.tensors, 'dinov2 without registers', { numHeads: 4, imageSize: 42 });
    expect(converted.config).toMatchObject({ registerTokens: 0, noEmbedClass: false });
    const vit = await loadViT({ config: converted.config, weights: converted.tensors });
    const c = dino.cases['42']!;
    const x = tf.tensor4d(c.inputs);
    const features = vit.forward(x);
    expect(maxAbsDiff(features.dataSync(), c.features_without_registers.flat())).toBeLessThan(1e-4);
    tf.dispose([x, features]);
    vit.dispose();
  });

  it('OpenAI/OpenCLIP: ln_pre, QuickGELU, no patch bias; features before the dropped projection', async () => {
    const expected = json<Expected>('clip.json');
    const { converted, featureDiff } = await run('clip', 'clip.safetensors', expected, { numHeads: 4 });
    expect(converted.config).toMatchObject({ preNorm: true, patchBias: false, activation: 'quick-gelu', layerNormEps: 1e-5 });
    expect(converted.tensors.has('visual.proj')).toBe(false);
    expect(featureDiff).toBeLessThan(1e-4);
  });
});
