import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  applyPeft,
  compose,
  createViT,
  getMethod,
  initBackend,
  listMethods,
  loadPeftModel,
  registerMethod,
  unregisterMethod,
} from '@vpeft/core';
import { createTestViT, describeMethodConformance, maxAbsDiff, randomBatch, trainSteps } from '@vpeft/core/testing';
import { bitfit, bitfitMethod } from '@vpeft/method-bitfit';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ia3, ia3Method } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describeMethodConformance({ name: 'ia3 (example third-party method)', methods: () => ia3(), mergeable: true });

describe('ia3 through core’s public API', () => {
  it('has 12·(2·768 + 3072) = 55,296 parameters on ViT-B/16', () => {
    const vit = createViT('vit_base_patch16_224');
    const model = applyPeft(vit, ia3(), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(12 * (2 * 768 + 3072));
    model.dispose({ backbone: true });
  });

  it('leaves the q slice alone: merging scales only k and v columns of qkv', () => {
    const backbone = createTestViT(2);
    const model = applyPeft(backbone, ia3(), { numClasses: 2 });
    // vit_test_patch8_32: D = 32, so qkv has 3·32 output columns: q [0, 32), k [32, 64), v [64, 96).
    const D = 32;
    model.parameters.variable('ia3.blocks.0.attn.qkv.scale').assign(tf.fill([2 * D], 2));
    const bias = backbone.parameters.variable('blocks.0.attn.qkv.bias');
    bias.assign(tf.linspace(-1, 1, 3 * D));
    const before = backbone.parameters.variable('blocks.0.attn.qkv.weight').arraySync() as number[][];
    const biasBefore = Array.from(bias.dataSync());
    model.merge();
    const after = backbone.parameters.variable('blocks.0.attn.qkv.weight').arraySync() as number[][];
    const biasAfter = Array.from(bias.dataSync());
    expect(maxAbsDiff(after.map((r) => r.slice(0, D)).flat(), before.map((r) => r.slice(0, D)).flat())).toBe(0);
    expect(maxAbsDiff(after.map((r) => r.slice(D)).flat(), before.map((r) => r.slice(D).map((v) => 2 * v)).flat())).toBeLessThan(1e-6);
    expect(maxAbsDiff(biasAfter.slice(0, D), biasBefore.slice(0, D))).toBe(0);
    expect(maxAbsDiff(biasAfter.slice(D), biasBefore.slice(D).map((v) => 2 * v))).toBeLessThan(1e-6);
    model.unmerge();
    const restored = backbone.parameters.variable('blocks.0.attn.qkv.weight').arraySync() as number[][];
    expect(maxAbsDiff(restored.flat(), before.flat())).toBeLessThan(1e-6);
    expect(maxAbsDiff(Array.from(bias.dataSync()), biasBefore)).toBeLessThan(1e-6);
    model.dispose({ backbone: true });
  });

  it('validates its options: slice names must exist on the fused site', () => {
    const backbone = createTestViT(2);
    expect(() => applyPeft(backbone, ia3({ slices: ['key'] }), { numClasses: 2 })).toThrow(/ia3: option `slices`.*slice names of blocks\.0\.attn\.qkv: q, k, v/);
    expect(() => ia3({ slices: [] })).toThrow(/option `slices`/);
    expect(() => ia3({ targets: [] })).toThrow(/option `targets`/);
    expect(() => applyPeft(backbone, ia3({ targets: ['blocks.*.attn.qkvv'] }), { numClasses: 2 })).toThrow(/targets/);
    backbone.dispose();
  });

  it('composes with BitFit from another package: counts add up and both train', () => {
    const backbone = createTestViT(2);
    // vit_test_patch8_32: depth 2, D = 32, MLP hidden 4·D = 128.
    const [depth, D, hidden] = [2, 32, 128];
    const ia3Count = depth * (2 * D + hidden);
    // BitFit: per block qkv 3D + proj D + fc1 4D + fc2 D + two LayerNorm shifts 2D; plus patch-embed D and final norm D.
    const bitfitCount = depth * (3 * D + D + hidden + D + 2 * D) + 2 * D;
    const model = applyPeft(backbone, compose(ia3(), bitfit()), { numClasses: 3 });
    const rows = model.summary().rows;
    expect(rows.find((r) => r.owner === 'ia3')!.trainable).toBe(ia3Count);
    expect(rows.find((r) => r.owner === 'bitfit')!.trainable).toBe(bitfitCount);
    expect(model.summary().trainableExcludingHead).toBe(ia3Count + bitfitCount);
    const before = new Map(model.trainableParameters().map((p) => [p.name, p.variable.dataSync().slice()]));
    trainSteps(model, randomBatch(backbone, 4, 3), 3);
    for (const p of model.trainableParameters()) expect(maxAbsDiff(before.get(p.name)!, p.variable.dataSync()), p.name).toBeGreaterThan(0);
    model.dispose({ backbone: true });
  });
});

describe('registry and adapter files: clear errors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpeft-ia3-'));
    const model = applyPeft(createTestViT(2), compose(ia3(), bitfit()), { numClasses: 3 });
    await model.saveAdapter(dir);
    model.dispose({ backbone: true });
  });
  afterEach(async () => {
    if (!listMethods().includes('ia3')) registerMethod(ia3Method);
    if (!listMethods().includes('bitfit')) registerMethod(bitfitMethod);
    await rm(dir, { recursive: true, force: true });
  });

  it('loading an adapter whose method is not registered names it and the registered ones', async () => {
    unregisterMethod('ia3');
    const backbone = createTestViT(2);
    // The adapter config records each method's package, so even a third-party method gets an "install X" hint.
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(
      /method "ia3" is not registered; install and import @vpeft-example\/method-ia3\. Registered methods: .*bitfit/,
    );
    expect(() => getMethod('no-such-method')).toThrow(/method "no-such-method" is not registered\. Registered methods: .*bitfit/);
    backbone.dispose();
  });

  it('a missing first-party method names its package too', async () => {
    unregisterMethod('bitfit');
    const backbone = createTestViT(2);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(/method "bitfit" is not registered; install and import @vpeft\/method-bitfit\. Registered methods: .*ia3/);
    backbone.dispose();
  });

  it('an adapter made for another backbone fails naming the differing config keys', async () => {
    const deeper = createViT({ base: 'vit_test_patch8_32', depth: 3 });
    await expect(loadPeftModel(deeper, dir)).rejects.toThrow(/another backbone: depth 2 \(adapter\) vs 3 \(given\)/);
    deeper.dispose();
  });

  it('a truncated adapter.safetensors fails naming the file', async () => {
    const file = join(dir, ADAPTER_WEIGHTS_FILE);
    const size = (await readFile(file)).byteLength;
    await truncate(file, Math.floor(size / 2));
    const backbone = createTestViT(2);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(/adapter\.safetensors: does not match adapter_config\.json/);
    backbone.dispose();
  });

  it('a tensor whose shape does not match fails naming the tensor and the shapes', async () => {
    const configFile = join(dir, ADAPTER_CONFIG_FILE);
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { numClasses: number };
    config.numClasses = 4;
    await writeFile(configFile, JSON.stringify(config));
    const backbone = createTestViT(2);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(/"head\.weight" has shape \[32, 3\], expected \[32, 4\]/);
    backbone.dispose();
  });

  it('a method tensor whose shape does not match its options fails naming the tensor and the shapes', async () => {
    // Saved with slices k and v (2·32 scales on qkv); claiming only v makes the model expect 32.
    const configFile = join(dir, ADAPTER_CONFIG_FILE);
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { methods: Array<{ method: string; options: { slices?: string[] } }> };
    config.methods.find((m) => m.method === 'ia3')!.options.slices = ['v'];
    await writeFile(configFile, JSON.stringify(config));
    const backbone = createTestViT(2);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(/"ia3\.blocks\.0\.attn\.qkv\.scale" has shape \[64\], expected \[32\]/);
    backbone.dispose();
  });
});
