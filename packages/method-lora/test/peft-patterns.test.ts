import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, exportTimmWeights, initBackend, loadPeftModel, mulberry32, writeSafetensors, type TensorData, type ViT } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch, trainSteps } from '@vpeft/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lora, peftPatternValue, peftTargets } from '../src/index';
import { torchDelta } from './torch-delta';

// Hand-written adapters in Hugging Face PEFT's format for the tiny timm-named ViT (D 32, 2 blocks,
// MLP 128, 5 classes): rank_pattern / alpha_pattern and layers_to_transform / layers_pattern.
const D = 32;
const MLP = 128;
const CLASSES = 5;
const OUT: Record<string, [number, number]> = { 'attn.qkv': [3 * D, D], 'attn.proj': [D, D], 'mlp.fc1': [MLP, D], 'mlp.fc2': [D, MLP] };

let work: string;
beforeAll(async () => {
  await initBackend();
  work = await mkdtemp(join(tmpdir(), 'vpeft-peft-patterns-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function random(shape: number[], seed: number): TensorData {
  const next = mulberry32(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => (next() - 0.5) * 0.2);
  return { shape, data };
}

/** Writes a PEFT LoRA adapter: `modules` → rank, random factors, a random head; returns the tensors. */
async function writeAdapter(name: string, config: Record<string, unknown>, modules: Record<string, number>) {
  const dir = join(work, name);
  const tensors = new Map<string, TensorData>();
  let seed = 1;
  for (const [module, r] of Object.entries(modules)) {
    const [out, inp] = OUT[module.split('.').slice(2).join('.')]!;
    tensors.set(`base_model.model.${module}.lora_A.weight`, random([r, inp], seed++));
    tensors.set(`base_model.model.${module}.lora_B.weight`, random([out, r], seed++));
  }
  tensors.set('base_model.model.head.weight', random([CLASSES, D], seed++));
  tensors.set('base_model.model.head.bias', random([CLASSES], seed++));
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  const full = { peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0, modules_to_save: ['head'], bias: 'none', ...config };
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(full));
  return { dir, tensors };
}

/** Merged weights of the loaded model = base + (alpha/r)·B·A per module, each with its own r and alpha. */
async function expectMergedDeltas(dir: string, tensors: Map<string, TensorData>, scales: Record<string, number>) {
  const backbone = createTestViT(3) as ViT;
  const base = exportTimmWeights(backbone);
  const model = await loadPeftModel(backbone, dir);
  model.merge();
  const merged = exportTimmWeights(backbone);
  for (const [module, scale] of Object.entries(scales)) {
    const delta = torchDelta(tensors.get(`base_model.model.${module}.lora_A.weight`)!, tensors.get(`base_model.model.${module}.lora_B.weight`)!, scale);
    const want = base.get(`${module}.weight`)!.data.map((v, i) => v + delta[i]!);
    expect(maxAbsDiff(merged.get(`${module}.weight`)!.data, want), module).toBeLessThan(1e-5);
  }
  model.unmerge();
  return model;
}

describe('PEFT rank_pattern and alpha_pattern', () => {
  it('reads per-module ranks and alphas into one LoRA instance per (r, alpha), each with its own scale', async () => {
    const { dir, tensors } = await writeAdapter(
      'patterns',
      { target_modules: ['qkv', 'fc1'], rank_pattern: { fc1: 2 }, alpha_pattern: { 'blocks.1.attn.qkv': 2 } },
      { 'blocks.0.attn.qkv': 4, 'blocks.1.attn.qkv': 4, 'blocks.0.mlp.fc1': 2, 'blocks.1.mlp.fc1': 2 },
    );
    const model = await expectMergedDeltas(dir, tensors, {
      'blocks.0.attn.qkv': 8 / 4, // r 4, alpha 8 (the defaults)
      'blocks.1.attn.qkv': 2 / 4, // alpha_pattern: alpha 2
      'blocks.0.mlp.fc1': 8 / 2, // rank_pattern: r 2
      'blocks.1.mlp.fc1': 8 / 2,
    });
    const byName = Object.fromEntries(model.methods.map((m) => [m.name, m.options as { r: number; alpha: number; targets: string[] }]));
    expect(byName.lora).toMatchObject({ r: 4, alpha: 8, targets: ['blocks.0.attn.qkv'] });
    expect(byName['lora-r4-alpha2']).toMatchObject({ r: 4, alpha: 2, targets: ['blocks.1.attn.qkv'] });
    expect(byName['lora-r2-alpha8']).toMatchObject({ r: 2, alpha: 8, targets: ['blocks.0.mlp.fc1', 'blocks.1.mlp.fc1'] });
    model.dispose({ backbone: true });
  });

  it('writes several LoRA instances as one adapter: the common rank/alpha, the rest as patterns; reads back the same logits', async () => {
    const backbone = createTestViT(4);
    const methods = [
      lora({ r: 4, alpha: 8, slices: 'all', targets: ['blocks.*.attn.qkv'] }),
      lora({ r: 2, alpha: 8, slices: 'all', targets: ['blocks.*.mlp.fc1'] }, { name: 'lora-fc1' }),
      lora({ r: 4, alpha: 1, slices: 'all', targets: ['blocks.1.mlp.fc2'] }, { name: 'lora-fc2' }),
    ];
    const model = applyPeft(backbone, methods, { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 2);
    const dir = join(work, 'written');
    await model.saveAdapter(dir, { format: 'peft' });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      r: 4,
      lora_alpha: 8,
      rank_pattern: { 'blocks.0.mlp.fc1': 2, 'blocks.1.mlp.fc1': 2 },
      alpha_pattern: { 'blocks.1.mlp.fc2': 1 },
    });
    const loaded = await loadPeftModel(createTestViT(4), dir);
    const [a, b] = [model.predict(batch.x), loaded.predict(batch.x)];
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-6);
    tf.dispose([a, b, batch.x, batch.y]);
    model.dispose({ backbone: true });
    loaded.dispose({ backbone: true });
  });

  it('refuses to write LoRAs that overlap or differ in dropout/DoRA/rsLoRA, saying why', async () => {
    const backbone = createTestViT(5);
    const overlap = applyPeft(backbone, [lora({ slices: 'all', targets: ['blocks.0.attn.qkv'] }), lora({ slices: 'all', targets: ['blocks.*.attn.qkv'] }, { name: 'second' })], { numClasses: 2 });
    await expect(overlap.saveAdapter(join(work, 'overlap'), { format: 'peft' })).rejects.toThrow(/"lora" and "second" both adapt blocks\.0\.attn\.qkv/);
    overlap.dispose();
    const mixed = applyPeft(backbone, [lora({ slices: 'all', targets: ['blocks.0.attn.qkv'] }), lora({ slices: 'all', rslora: true, targets: ['blocks.1.attn.qkv'] }, { name: 'rs' })], { numClasses: 2 });
    await expect(mixed.saveAdapter(join(work, 'mixed'), { format: 'peft' })).rejects.toThrow(/"lora" and "rs" differ in rslora/);
    mixed.dispose({ backbone: true });
  });

  it('matches pattern keys as PEFT does: a regex over the end of the name at a segment boundary', () => {
    expect(peftPatternValue({ fc1: 2 }, 'blocks.0.mlp.fc1', 8)).toBe(2);
    expect(peftPatternValue({ 'mlp.fc1': 2 }, 'blocks.0.mlp.fc1', 8)).toBe(2);
    expect(peftPatternValue({ 'blocks\\.1\\..*': 3 }, 'blocks.1.attn.qkv', 8)).toBe(3);
    expect(peftPatternValue({ c1: 2 }, 'blocks.0.mlp.fc1', 8)).toBe(8); // not at a segment boundary
    expect(peftPatternValue({ fc1: 2 }, 'blocks.0.mlp.fc1.x', 8)).toBe(8); // not at the end
  });
});

describe('PEFT layers_to_transform and layers_pattern', () => {
  it('adapts suffix-matched modules only in the listed layers (and reads the rest of the file as usual)', async () => {
    const { dir, tensors } = await writeAdapter('layers', { target_modules: ['qkv', 'fc2'], layers_to_transform: [1], layers_pattern: 'blocks' }, { 'blocks.1.attn.qkv': 4, 'blocks.1.mlp.fc2': 4 });
    const model = await expectMergedDeltas(dir, tensors, { 'blocks.1.attn.qkv': 2, 'blocks.1.mlp.fc2': 2 });
    expect(model.methods[0]!.options).toMatchObject({ targets: ['blocks.1.attn.qkv', 'blocks.1.mlp.fc2'] });
    model.dispose({ backbone: true });
  });

  it('selects layers as PEFT does: an int or a list, with or without a pattern; full names are not filtered', () => {
    const config = (extra: object) => ({ target_modules: ['qkv'], ...extra });
    expect(peftTargets('blocks.0.attn.qkv', config({ layers_to_transform: 1 }))).toBe(false);
    expect(peftTargets('blocks.1.attn.qkv', config({ layers_to_transform: 1 }))).toBe(true);
    expect(peftTargets('blocks.1.attn.qkv', config({ layers_to_transform: [0, 1], layers_pattern: ['layers', 'blocks'] }))).toBe(true);
    expect(peftTargets('blocks.1.attn.qkv', config({ layers_to_transform: [1], layers_pattern: 'layers' }))).toBe(false);
    expect(peftTargets('model.layers.3.experts.0.qkv', config({ layers_to_transform: [3] }))).toBe(true); // the first number, not the expert's
    expect(peftTargets('blocks.0.attn.qkv', { target_modules: ['blocks.0.attn.qkv'], layers_to_transform: [1] })).toBe(true);
  });

  it('refuses a layer filter that selects nothing or a malformed one, in one line', async () => {
    const none = await writeAdapter('layers-none', { target_modules: ['qkv'], layers_to_transform: [7] }, { 'blocks.0.attn.qkv': 4 });
    await expect(loadPeftModel(createTestViT(1), none.dir)).rejects.toThrow(/target_modules \["qkv"\] in layers \[7\] matches no linear or conv site of this backbone/);
    const bad = await writeAdapter('layers-bad', { target_modules: ['qkv'], layers_to_transform: 'first' }, { 'blocks.0.attn.qkv': 4 });
    await expect(loadPeftModel(createTestViT(1), bad.dir)).rejects.toThrow(/layers_to_transform is "first"; expected a layer index or a list of them/);
    const rank = await writeAdapter('rank-bad', { target_modules: ['qkv'], rank_pattern: { qkv: 0 } }, { 'blocks.0.attn.qkv': 4 });
    await expect(loadPeftModel(createTestViT(1), rank.dir)).rejects.toThrow(/rank_pattern\["qkv"\] is 0; expected a positive integer rank/);
  });
});
