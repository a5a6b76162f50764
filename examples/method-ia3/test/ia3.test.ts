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
import { bitfit } from '@vpeft/method-bitfit';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ia3, ia3Method } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describeMethodConformance({ name: 'ia3 (example third-party method)', methods: () => ia3() });

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
    model.parameters.variable('ia3.blocks.0.attn.qkv.scale').assign(tf.fill([64], 2));
    const before = backbone.parameters.variable('blocks.0.attn.qkv.weight').arraySync() as number[][];
    model.merge();
    const after = backbone.parameters.variable('blocks.0.attn.qkv.weight').arraySync() as number[][];
    expect(maxAbsDiff(after.map((r) => r.slice(0, 32)).flat(), before.map((r) => r.slice(0, 32)).flat())).toBe(0);
    expect(maxAbsDiff(after.map((r) => r.slice(32)).flat(), before.map((r) => r.slice(32).map((v) => 2 * v)).flat())).toBeLessThan(1e-6);
    model.unmerge();
    model.dispose({ backbone: true });
  });

  it('composes with BitFit from another package: counts add up and both train', () => {
    const backbone = createTestViT(2);
    const alone = applyPeft(backbone, bitfit(), { numClasses: 3 }).summary().trainableExcludingHead;
    const ia3Count = 2 * (2 * 32 + 128);
    const model = applyPeft(backbone, compose(ia3(), bitfit()), { numClasses: 3 });
    expect(model.summary().trainableExcludingHead).toBe(alone + ia3Count);
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
    await rm(dir, { recursive: true, force: true });
  });

  it('loading an adapter whose method is not registered names it and the registered ones', async () => {
    unregisterMethod('ia3');
    await expect(loadPeftModel(createTestViT(2), dir)).rejects.toThrow(/method "ia3" is not registered.*Registered methods: .*bitfit/);
    expect(() => getMethod('lora-not-installed')).toThrow(/not registered/);
  });

  it('a method with a known package says which package to install', () => {
    if (listMethods().includes('lora')) return;
    expect(() => getMethod('lora')).toThrow(/install and import @vpeft\/method-lora/);
  });

  it('an adapter made for another backbone fails naming the differing config keys', async () => {
    const deeper = createViT({ base: 'vit_test_patch8_32', depth: 3 });
    await expect(loadPeftModel(deeper, dir)).rejects.toThrow(/another backbone: depth 2 \(adapter\) vs 3 \(given\)/);
  });

  it('a truncated adapter.safetensors fails naming the file', async () => {
    const file = join(dir, ADAPTER_WEIGHTS_FILE);
    const size = (await readFile(file)).byteLength;
    await truncate(file, Math.floor(size / 2));
    await expect(loadPeftModel(createTestViT(2), dir)).rejects.toThrow(/adapter\.safetensors/);
  });

  it('a tensor whose shape does not match fails naming the tensor and the shapes', async () => {
    const configFile = join(dir, ADAPTER_CONFIG_FILE);
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { numClasses: number };
    config.numClasses = 4;
    await writeFile(configFile, JSON.stringify(config));
    await expect(loadPeftModel(createTestViT(2), dir)).rejects.toThrow(/"head\.weight" has shape \[32, 3\], expected \[32, 4\]/);
  });
});
