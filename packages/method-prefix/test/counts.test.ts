import { applyPeft, compose, createViT, initBackend, type ViT } from '@vpeft/core';
import { lora } from '@vpeft/method-lora';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefix } from '../src/index';

// ViT-B/16 (L = 12, D = 768) is built (random init) but never run: only parameter counts are checked.
let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

const L = 12;
const D = 768;

describe('prefix tuning parameter counts on ViT-B/16', () => {
  it('p prefixes per layer: 2·L·p·D (p = 10 → 184,320)', () => {
    const model = applyPeft(vit, prefix({ tokens: 10 }), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(2 * L * 10 * D);
    expect(model.summary().trainableExcludingHead).toBe(184_320);
    expect(model.parameters.get('prefix.blocks.0.attn.core.key').variable.shape).toEqual([10, D]);
    expect(model.parameters.get('prefix.blocks.11.attn.core.value').variable.shape).toEqual([10, D]);
    model.dispose();
  });

  it('with the MLP (hidden h): embedding p·D + Linear(D, h) + Linear(h, 2·L·D), as PEFT prefix_projection', () => {
    const p = 10;
    const h = 512;
    const model = applyPeft(vit, prefix({ tokens: p, projection: true, hidden: h }), { numClasses: 10 });
    const mlp = p * D + (D * h + h) + (h * 2 * L * D + 2 * L * D);
    expect(model.summary().trainableExcludingHead).toBe(mlp);
    // The output layer is stored by layer blocks: 12 x [h, 2D] is one [h, 2·L·D] matrix.
    expect(model.parameters.get('prefix.blocks.4.attn.core.mlp.fc2.weight').variable.shape).toEqual([h, 2 * D]);
    expect(model.parameters.get('prefix.mlp.fc1.weight').variable.shape).toEqual([D, h]);
    model.dispose();
  });

  it('composed with LoRA the counts add up (prefix 10 + LoRA r=8 on q, v: 294,912)', () => {
    const model = applyPeft(vit, compose(prefix({ tokens: 10 }), lora({ r: 8 })), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(184_320 + 294_912);
    model.dispose();
  });

  it('targets a subset of layers by glob', () => {
    const model = applyPeft(vit, prefix({ tokens: 5, targets: ['blocks.{0,1,2}.attn.core'] }), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(2 * 3 * 5 * D);
    model.dispose();
  });

  it('validates options with the option named', () => {
    expect(() => prefix({ tokens: 0 })).toThrow(/tokens/);
    expect(() => prefix({ hidden: 1.5 })).toThrow(/hidden/);
    expect(() => prefix({ projection: 'yes' as unknown as boolean })).toThrow(/projection/);
    expect(() => applyPeft(vit, prefix({ targets: ['blocks.*.attn.qkv'] }), { numClasses: 2 })).toThrow(/targets/);
  });
});
