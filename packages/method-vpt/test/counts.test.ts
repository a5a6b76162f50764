import { applyPeft, compose, createViT, initBackend, type ViT } from '@vpeft/core';
import { lora } from '@vpeft/method-lora';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vpt } from '../src/index';

let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

describe('VPT parameter counts on ViT-B/16 (v-peft-bench.md)', () => {
  it('shallow p=100 → 76,800; deep p=10 → 12·10·768 = 92,160', () => {
    const shallow = applyPeft(vit, vpt({ tokens: 100 }), { numClasses: 10 });
    expect(shallow.summary().trainableExcludingHead).toBe(76_800);
    shallow.dispose();
    const deep = applyPeft(vit, vpt({ tokens: 10, deep: true }), { numClasses: 10 });
    expect(deep.summary().trainableExcludingHead).toBe(12 * 10 * 768);
    deep.dispose();
  });

  it('composed with LoRA the counts add up (VPT-deep 10 + LoRA r=8 q,v)', () => {
    const model = applyPeft(vit, compose(vpt({ tokens: 10, deep: true }), lora({ r: 8 })), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(92_160 + 294_912);
    model.dispose();
  });

  it('validates options with the option named', () => {
    expect(() => vpt({ tokens: 0 })).toThrow(/tokens/);
    expect(() => vpt({ position: 'middle' as 'append' })).toThrow(/"prepend" or "append"/);
    expect(() => vpt({ dropout: 1 })).toThrow(/dropout/);
  });
});
