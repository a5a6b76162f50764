import { applyPeft, createViT, initBackend, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lora } from '../src/index';

// ViT-B/16 is built (random init) but never run: only parameter counts are checked.
let vit: ViT;

beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});

afterAll(() => vit.dispose());

describe('LoRA parameter counts on ViT-B/16 (V-PEFT Bench)', () => {
  it('r=8 on the q and v slices of every fused qkv: 294,912 trainable besides the head', () => {
    const model = applyPeft(vit, lora({ r: 8, slices: ['q', 'v'] }), { numClasses: 100 });
    // Published figure (v-peft-bench.md); per block 2 slices x (A 768x8 + B 8x768).
    expect(model.summary().trainableExcludingHead).toBe(294_912);
    expect(model.summary().trainableExcludingHead).toBe(12 * 2 * (768 * 8 + 8 * 768));
    expect(model.parameters.get('lora.blocks.0.attn.qkv.lora_A.q').variable.shape).toEqual([768, 8]);
    expect(model.parameters.get('lora.blocks.11.attn.qkv.lora_B.v').variable.shape).toEqual([8, 768]);
    expect(model.parameters.has('lora.blocks.0.attn.qkv.lora_A.k')).toBe(false);
    model.dispose();
  });

  it('r=8 on the whole fused qkv (NOAH): 12·8·(768+2304) = 294,912', () => {
    const model = applyPeft(vit, lora({ r: 8, slices: 'all' }), { numClasses: 100 });
    expect(model.summary().trainableExcludingHead).toBe(12 * 8 * (768 + 2304));
    expect(model.summary().trainableExcludingHead).toBe(294_912);
    expect(model.parameters.get('lora.blocks.3.attn.qkv.lora_B').variable.shape).toEqual([8, 2304]);
    model.dispose();
  });

  it('DoRA adds a magnitude per adapted output column: q/v slices 294,912 + 12·2·768, whole qkv 294,912 + 12·2304', () => {
    const sliced = applyPeft(vit, lora({ r: 8, dora: true }), { numClasses: 100 });
    expect(sliced.summary().trainableExcludingHead).toBe(294_912 + 12 * 2 * 768);
    expect(sliced.parameters.get('lora.blocks.0.attn.qkv.lora_magnitude_vector.q').variable.shape).toEqual([768]);
    sliced.dispose();
    const whole = applyPeft(vit, lora({ r: 8, dora: true, slices: 'all' }), { numClasses: 100 });
    expect(whole.summary().trainableExcludingHead).toBe(294_912 + 12 * 2304);
    whole.dispose();
  });
});
