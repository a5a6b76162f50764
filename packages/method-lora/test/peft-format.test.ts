import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, exportTimmWeights, initBackend, loadPeftModel, loadViT, readSafetensors, type ViT } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch, trainSteps } from '@vpeft/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lora } from '../src/index';
import { TinyConvBackbone } from './tiny-conv-backbone';
import { torchDelta } from './torch-delta';

// Fixture from test/fixtures/make_peft_fixture.py: a timm-named tiny ViT and a PEFT LoRA adapter
// (r=4, lora_alpha=8, target_modules ["qkv"], modules_to_save ["head"]) with logits from PyTorch.
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const backbonePath = join(fixtures, 'peft-vit-backbone.safetensors');
const adapterDir = join(fixtures, 'peft-lora');
const expected = JSON.parse(await readFile(join(fixtures, 'peft-lora-expected.json'), 'utf8')) as {
  inputs: number[][][][];
  logits: number[][];
  logits_without_lora: number[][];
};

let work: string;

beforeAll(async () => {
  await initBackend();
  work = await mkdtemp(join(tmpdir(), 'vpeft-lora-peft-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("Hugging Face PEFT's LoRA format", () => {
  it('loads a PEFT adapter made in PyTorch and reproduces its logits', async () => {
    const backbone: ViT = await loadViT({ config: 'vit_test_patch8_32', weights: backbonePath });
    const model = await loadPeftModel(backbone, adapterDir);
    expect(model.methods.map((m) => m.definition.name)).toEqual(['lora']);
    expect(model.methods[0]!.options).toMatchObject({ r: 4, alpha: 8, slices: 'all', targets: ['blocks.0.attn.qkv', 'blocks.1.attn.qkv'] });
    expect(model.numClasses).toBe(5);
    const x = tf.tensor4d(expected.inputs);
    const logits = model.predict(x);
    expect(maxAbsDiff(logits.dataSync(), expected.logits.flat())).toBeLessThan(1e-4);
    // The LoRA update matters at this tolerance: without it the logits are far off.
    expect(maxAbsDiff(expected.logits.flat(), expected.logits_without_lora.flat())).toBeGreaterThan(1e-2);
    tf.dispose([x, logits]);
    model.dispose({ backbone: true });
  });

  it('round-trips every linear site (patch_embed as a PyTorch conv) with PEFT names and layouts', async () => {
    const dir = join(work, 'vit-all-linear');
    // createTestViT builds a ViT; exportTimmWeights needs the class.
    const backbone = createTestViT(2) as ViT;
    const targets = ['patch_embed.proj', 'blocks.*.attn.{qkv,proj}', 'blocks.*.mlp.fc{1,2}'];
    const model = applyPeft(backbone, lora({ r: 3, alpha: 6, slices: 'all', targets }), { numClasses: 5 });
    const batch = randomBatch(backbone, 2, 5);
    trainSteps(model, batch, 2);
    await model.saveAdapter(dir, { format: 'peft' });

    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 3, lora_alpha: 6, lora_dropout: 0, modules_to_save: ['head'], use_dora: false, use_rslora: false, bias: 'none' });
    expect(config.target_modules).toHaveLength(1 + 2 * 4);
    const file = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    const shape = (key: string) => file.tensors.get(`base_model.model.${key}`)?.shape;
    expect(shape('blocks.0.attn.qkv.lora_A.weight')).toEqual([3, 32]);
    expect(shape('blocks.0.attn.qkv.lora_B.weight')).toEqual([96, 3]);
    expect(shape('blocks.1.mlp.fc1.lora_B.weight')).toEqual([128, 3]);
    expect(shape('blocks.1.mlp.fc2.lora_A.weight')).toEqual([3, 128]);
    expect(shape('patch_embed.proj.lora_A.weight')).toEqual([3, 3, 8, 8]);
    expect(shape('patch_embed.proj.lora_B.weight')).toEqual([32, 3, 1, 1]);
    expect(shape('head.weight')).toEqual([5, 32]);
    expect(shape('head.bias')).toEqual([5]);
    expect(file.tensors.size).toBe(2 * 9 + 2);

    // Layouts, checked against core's timm export of the merged model (independent of the PEFT code):
    // merged PyTorch weight = base PyTorch weight + (alpha/r)·B·A from the file.
    const base = exportTimmWeights(backbone);
    const logits = model.predict(batch.x);
    model.merge();
    const merged = exportTimmWeights(backbone);
    model.unmerge();
    for (const site of ['patch_embed.proj', 'blocks.1.attn.qkv', 'blocks.0.mlp.fc2']) {
      const delta = torchDelta(file.tensors.get(`base_model.model.${site}.lora_A.weight`)!, file.tensors.get(`base_model.model.${site}.lora_B.weight`)!, 2);
      const want = base.get(`${site}.weight`)!.data.map((v, i) => v + delta[i]!);
      expect(maxAbsDiff(merged.get(`${site}.weight`)!.data, want), site).toBeLessThan(1e-5);
    }

    const loaded = await loadPeftModel(createTestViT(2), dir);
    const again = loaded.predict(batch.x);
    expect(maxAbsDiff(logits.dataSync(), again.dataSync())).toBeLessThan(1e-6);
    tf.dispose([batch.x, batch.y, logits, again]);
    model.dispose({ backbone: true });
    loaded.dispose({ backbone: true });
  });

  it('round-trips conv LoRA as PyTorch Conv2d factors [r, in, kh, kw] / [out, r, 1, 1]', async () => {
    const dir = join(work, 'conv');
    const backbone = new TinyConvBackbone(5);
    const model = applyPeft(backbone, lora({ r: 2, alpha: 2, targets: ['conv*'] }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 2);
    await model.saveAdapter(dir, { format: 'peft' });
    const file = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    expect(file.tensors.get('base_model.model.conv1.lora_A.weight')!.shape).toEqual([2, 3, 3, 3]);
    expect(file.tensors.get('base_model.model.conv2.lora_B.weight')!.shape).toEqual([8, 2, 1, 1]);
    // The A of conv1 in OIHW is vpeft's HWIO transposed: A_torch[r, c, h, w] = A[h, w, c, r].
    const hwio = model.parameters.variable('lora.conv1.lora_A').dataSync();
    const oihw = file.tensors.get('base_model.model.conv1.lora_A.weight')!.data;
    for (const [r, c, h, w] of [[0, 0, 0, 0], [1, 2, 1, 0], [1, 1, 2, 2]] as const) {
      expect(oihw[((r * 3 + c) * 3 + h) * 3 + w]).toBe(hwio[((h * 3 + w) * 3 + c) * 2 + r]);
    }
    const logits = model.predict(batch.x);
    const loaded = await loadPeftModel(new TinyConvBackbone(5), dir);
    const again = loaded.predict(batch.x);
    expect(maxAbsDiff(logits.dataSync(), again.dataSync())).toBeLessThan(1e-6);
    tf.dispose([batch.x, batch.y, logits, again]);
    model.dispose({ backbone: true });
    loaded.dispose({ backbone: true });
  });

  it('exports the benchmark default (q/v slices of the fused qkv) losslessly as a rank-2r LoRA on the whole qkv, and reads it back', async () => {
    const dir = join(work, 'sliced');
    const backbone = createTestViT(1);
    const model = applyPeft(backbone, lora({ r: 2, alpha: 3 }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 2);
    await model.saveAdapter(dir, { format: 'peft' });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    // Same scale: (2·3)/(2·2) = 3/2.
    expect(config).toMatchObject({ r: 4, lora_alpha: 6, target_modules: ['blocks.0.attn.qkv', 'blocks.1.attn.qkv'] });
    const file = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    const a = file.tensors.get('base_model.model.blocks.0.attn.qkv.lora_A.weight')!;
    const b = file.tensors.get('base_model.model.blocks.0.attn.qkv.lora_B.weight')!;
    expect(a.shape).toEqual([4, 32]);
    expect(b.shape).toEqual([96, 4]);
    // B is block-structured: q rows use ranks 0-1 only, k rows are zero, v rows use ranks 2-3 only.
    const row = (o: number) => Array.from(b.data.slice(o * 4, o * 4 + 4));
    for (let o = 0; o < 32; o++) expect(row(o).slice(2)).toEqual([0, 0]);
    for (let o = 32; o < 64; o++) expect(row(o)).toEqual([0, 0, 0, 0]);
    for (let o = 64; o < 96; o++) expect(row(o).slice(0, 2)).toEqual([0, 0]);
    expect(row(0).some((v) => v !== 0) && row(70).some((v) => v !== 0)).toBe(true);
    const logits = model.predict(batch.x);
    const loaded = await loadPeftModel(createTestViT(1), dir);
    expect(loaded.methods[0]!.options).toMatchObject({ r: 4, alpha: 6, slices: 'all' });
    const again = loaded.predict(batch.x);
    expect(maxAbsDiff(logits.dataSync(), again.dataSync())).toBeLessThan(1e-5);
    tf.dispose([batch.x, batch.y, logits, again]);
    model.dispose({ backbone: true });
    loaded.dispose({ backbone: true });
  });

  it('refuses a sliced export it cannot write as one rank, saying why', async () => {
    const backbone = createTestViT(1);
    const model = applyPeft(backbone, lora({ r: 2, targets: ['blocks.*.attn.qkv', 'blocks.*.mlp.fc1'] }), { numClasses: 3 });
    await expect(model.saveAdapter(join(work, 'mixed'), { format: 'peft' })).rejects.toThrow(/only when every target is such a fused site/);
    model.dispose({ backbone: true });
  });

  it.each([
    [{ use_dora: true }, /use_dora is true but lora_magnitude_vector is missing for target module\(s\) blocks\.0\.attn\.qkv/],
    [{ use_rslora: 'yes' }, /use_rslora is "yes"; expected true or false/],
    [{ bias: 'all' }, /bias: "all" is not supported/],
    [{ peft_type: 'IA3' }, /peft_type is "IA3"; @vpeft\/method-lora reads PEFT LoRA adapters only/],
    [{ modules_to_save: ['classifier'] }, /modules_to_save: \["classifier"\] .*only the classification head/],
    // rank_pattern is read: rank 8 for qkv, but the file holds rank-4 factors.
    [{ rank_pattern: { qkv: 8 } }, /tensor "base_model\.model\.blocks\.0\.attn\.qkv\.lora_A\.weight" has shape \[4, 32\], expected \[8, 32\]/],
    [{ init_lora_weights: 'pissa' }, /init_lora_weights: "pissa" .*change the base weights/],
    [{ target_modules: ['fc3'] }, /target_modules \["fc3"\] matches no linear or conv site of this backbone; it has patch_embed\.proj, blocks\.\{0\.\.1\}\.attn\.qkv/],
    [{ target_modules: ['qkv', 'proj'] }, /missing lora_A\/lora_B weights for target module\(s\) patch_embed\.proj, blocks\.0\.attn\.proj/],
  ])('refuses an adapter with %j, with a clear message', async (change, message) => {
    const dir = join(work, `bad-${Object.keys(change)[0]}-${JSON.stringify(Object.values(change)[0]).length}`);
    await cp(adapterDir, dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, ...change }));
    const backbone = createTestViT(1);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(message);
    backbone.dispose();
  });

  it('refuses an adapter without adapter_model.safetensors, naming the file and what a PEFT adapter holds', async () => {
    const dir = join(work, 'no-weights');
    await cp(adapterDir, dir, { recursive: true });
    await rm(join(dir, 'adapter_model.safetensors'));
    const backbone = createTestViT(1);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(/no-weights\/adapter_model\.safetensors: is missing: a PEFT LoRA adapter holds adapter_config\.json and adapter_model\.safetensors/);
    backbone.dispose();
  });

  it('loads a PEFT DoRA adapter (use_dora, lora_magnitude_vector) made in PyTorch and reproduces its logits, merged too', async () => {
    const dora = JSON.parse(await readFile(join(fixtures, 'peft-dora-expected.json'), 'utf8')) as { logits: number[][] };
    const backbone = await loadViT({ config: 'vit_test_patch8_32', weights: backbonePath });
    const model = await loadPeftModel(backbone, join(fixtures, 'peft-dora'));
    expect(model.methods[0]!.options).toMatchObject({ r: 4, alpha: 8, dora: true, rslora: false, slices: 'all' });
    const x = tf.tensor4d(expected.inputs);
    const logits = model.predict(x);
    expect(maxAbsDiff(logits.dataSync(), dora.logits.flat())).toBeLessThan(1e-4);
    // The magnitudes matter at this tolerance: plain LoRA with the same factors is far off.
    expect(maxAbsDiff(dora.logits.flat(), expected.logits.flat())).toBeGreaterThan(1e-2);
    model.merge();
    const merged = model.predict(x);
    expect(maxAbsDiff(merged.dataSync(), dora.logits.flat())).toBeLessThan(1e-4);
    tf.dispose([x, logits, merged]);
    model.dispose({ backbone: true });
  });

  it('round-trips DoRA + rsLoRA (linear and the patch-embedding conv) with PEFT names, shapes and flags', async () => {
    const dir = join(work, 'dora-rslora');
    const backbone = createTestViT(3);
    const model = applyPeft(backbone, lora({ r: 2, alpha: 4, slices: 'all', dora: true, rslora: true, targets: ['patch_embed.proj', 'blocks.*.mlp.fc1'] }), { numClasses: 4 });
    const batch = randomBatch(backbone, 2, 4);
    trainSteps(model, batch, 2);
    await model.saveAdapter(dir, { format: 'peft' });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ r: 2, lora_alpha: 4, use_dora: true, use_rslora: true });
    const file = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    expect(file.tensors.get('base_model.model.blocks.0.mlp.fc1.lora_magnitude_vector')?.shape).toEqual([128]);
    expect(file.tensors.get('base_model.model.patch_embed.proj.lora_magnitude_vector')?.shape).toEqual([1, 32, 1, 1]);
    expect(file.tensors.size).toBe(3 * 3 + 2);
    const logits = model.predict(batch.x);
    const loaded = await loadPeftModel(createTestViT(3), dir);
    expect(loaded.methods[0]!.options).toMatchObject({ dora: true, rslora: true });
    const again = loaded.predict(batch.x);
    expect(maxAbsDiff(logits.dataSync(), again.dataSync())).toBeLessThan(1e-6);
    tf.dispose([batch.x, batch.y, logits, again]);
    model.dispose({ backbone: true });
    loaded.dispose({ backbone: true });
  });

  it('accepts target_modules as a regular expression, as PEFT does (full match)', async () => {
    const dir = join(work, 'regex');
    await cp(adapterDir, dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, target_modules: 'blocks\\.\\d+\\.attn\\.qkv' }));
    const backbone = await loadViT({ config: 'vit_test_patch8_32', weights: backbonePath });
    const model = await loadPeftModel(backbone, dir);
    const x = tf.tensor4d(expected.inputs);
    const logits = model.predict(x);
    expect(maxAbsDiff(logits.dataSync(), expected.logits.flat())).toBeLessThan(1e-4);
    tf.dispose([x, logits]);
    model.dispose({ backbone: true });
  });
});
