import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, exportTimmWeights, initBackend, loadViT, readSafetensors, type PeftModel, type ViT } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssf } from '../src/index';

// Fixtures from test/fixtures/make_ssf_fixture.py: a timm-named tiny ViT, SSF vectors in
// dongzelian/SSF's names, the merged weights by the paper's formula, and the logits from PyTorch.
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const expected = JSON.parse(await readFile(join(fixtures, 'ssf-expected.json'), 'utf8')) as {
  inputs: number[][][][];
  head_weight: number[][];
  head_bias: number[];
  logits: number[][];
  logits_without_ssf: number[][];
};

/** dongzelian/SSF's parameter stem for the module each vpeft site follows. */
function referenceStem(site: string): string {
  if (site === 'patch_embed.proj') return 'patch_embed.ssf_{}';
  if (site === 'norm') return 'ssf_{}_1';
  const m = /^blocks\.(\d+)\.(.+)$/.exec(site)!;
  const local = { norm1: 'ssf_{}_1', norm2: 'ssf_{}_2', 'attn.qkv': 'attn.ssf_{}_1', 'attn.proj': 'attn.ssf_{}_2', 'mlp.fc1': 'mlp.ssf_{}_1', 'mlp.fc2': 'mlp.ssf_{}_2' }[m[2]!]!;
  return `blocks.${m[1]}.${local}`;
}

async function referenceModel(): Promise<{ vit: ViT; model: PeftModel }> {
  const vit = await loadViT({ config: 'vit_test_patch8_32', weights: join(fixtures, 'ssf-vit-backbone.safetensors') });
  const model = applyPeft(vit, ssf(), { numClasses: 5 });
  const { tensors } = await readSafetensors(join(fixtures, 'ssf-params.safetensors'));
  let assigned = 0;
  for (const p of model.parameters.list().filter((q) => q.owner === 'ssf')) {
    const [, site, kind] = /^ssf\.(.+)\.(scale|shift)$/.exec(p.name)!;
    const data = tensors.get(referenceStem(site!).replace('{}', kind!))!;
    tf.tidy(() => p.variable.assign(tf.tensor(data.data, data.shape)));
    assigned++;
  }
  expect(assigned).toBe(tensors.size);
  tf.tidy(() => {
    model.parameters.variable('head.weight').assign(tf.transpose(tf.tensor2d(expected.head_weight)));
    model.parameters.variable('head.bias').assign(tf.tensor1d(expected.head_bias));
  });
  return { vit, model };
}

beforeAll(async () => {
  await initBackend();
});

describe('SSF against the PyTorch reference (dongzelian/SSF placement)', () => {
  it('reproduces the logits of the reference SSF ViT to 1e-4', async () => {
    const { model } = await referenceModel();
    const x = tf.tensor4d(expected.inputs);
    const logits = model.predict(x);
    expect(maxAbsDiff(logits.dataSync(), expected.logits.flat())).toBeLessThan(1e-4);
    // SSF matters at this tolerance.
    expect(maxAbsDiff(expected.logits.flat(), expected.logits_without_ssf.flat())).toBeGreaterThan(1e-2);
    tf.dispose([x, logits]);
    model.dispose({ backbone: true });
  });

  it("merge() writes the paper's re-parameterised weights (W' = diag(gamma) W, b' = gamma b + beta) and keeps the logits", async () => {
    const { vit, model } = await referenceModel();
    expect(model.merge().kept).toEqual([]);
    const merged = exportTimmWeights(vit);
    const { tensors: reference } = await readSafetensors(join(fixtures, 'ssf-merged.safetensors'));
    expect(reference.size).toBeGreaterThan(10);
    for (const [name, want] of reference) {
      const got = merged.get(name)!;
      expect(got.shape, name).toEqual(want.shape);
      expect(maxAbsDiff(got.data, want.data), name).toBeLessThan(1e-4);
    }
    const x = tf.tensor4d(expected.inputs);
    const logits = model.predict(x);
    expect(maxAbsDiff(logits.dataSync(), expected.logits.flat())).toBeLessThan(1e-4);
    tf.dispose([x, logits]);
    model.dispose({ backbone: true });
  });
});
