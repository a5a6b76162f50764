import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend, loadViT, readSafetensors } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fact, type FactVariant } from '../src/index';

// Fixtures from test/fixtures/make_fact_fixture.py: JieShibo/PETL-ViT's fact_tt.py / fact_tk.py
// forwards on a timm-named tiny ViT, parameters in the reference's names and PyTorch layouts.
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const expected = JSON.parse(await readFile(join(fixtures, 'fact-expected.json'), 'utf8')) as {
  config: { r: number; scale: number };
  inputs: number[][][][];
  head_weight: number[][];
  head_bias: number[];
  logits_tt: number[][];
  logits_tk: number[][];
  logits_plain: number[][];
};

/** The reference's name of a vpeft FacT parameter, and whether its PyTorch layout is the transpose of vpeft's. */
function referenceName(name: string): { key: string; transpose: boolean } {
  if (name === 'fact.FacTu' || name === 'fact.FacTv') return { key: `${name.slice(5)}.weight`, transpose: true };
  if (name === 'fact.FacTp' || name === 'fact.FacTc') return { key: name.slice(5), transpose: false };
  const m = /^fact\.blocks\.(\d+)\.(attn|mlp)\.\w+\.(\w+_FacTs)$/.exec(name)!;
  return { key: `blocks.${m[1]}.${m[2]}.${m[3]}.weight`, transpose: true };
}

beforeAll(async () => {
  await initBackend();
});

describe.each(['tt', 'tk'] as const)('FacT-%s against the PyTorch reference (PETL-ViT)', (variant: FactVariant) => {
  it('reproduces the reference logits to 1e-4, unmerged and merged', async () => {
    const vit = await loadViT({ config: 'vit_test_patch8_32', weights: join(fixtures, 'fact-vit-backbone.safetensors') });
    const model = applyPeft(vit, fact({ variant, r: expected.config.r, scale: expected.config.scale }), { numClasses: 5 });
    const { tensors } = await readSafetensors(join(fixtures, `fact-${variant}.safetensors`));
    const own = model.parameters.list().filter((p) => p.owner === 'fact');
    expect(own.length).toBe(tensors.size);
    for (const p of own) {
      const { key, transpose } = referenceName(p.name);
      const data = tensors.get(key)!;
      tf.tidy(() => {
        const value = tf.tensor(data.data, data.shape);
        p.variable.assign(transpose ? tf.transpose(value) : value);
      });
    }
    tf.tidy(() => {
      model.parameters.variable('head.weight').assign(tf.transpose(tf.tensor2d(expected.head_weight)));
      model.parameters.variable('head.bias').assign(tf.tensor1d(expected.head_bias));
    });
    const want = (variant === 'tt' ? expected.logits_tt : expected.logits_tk).flat();
    expect(maxAbsDiff(want, expected.logits_plain.flat())).toBeGreaterThan(1e-2);
    const x = tf.tensor4d(expected.inputs);
    const logits = model.predict(x);
    expect(maxAbsDiff(logits.dataSync(), want)).toBeLessThan(1e-4);
    expect(model.merge().kept).toEqual([]);
    const merged = model.predict(x);
    expect(maxAbsDiff(merged.dataSync(), want)).toBeLessThan(1e-4);
    tf.dispose([x, logits, merged]);
    model.dispose({ backbone: true });
  });
});
