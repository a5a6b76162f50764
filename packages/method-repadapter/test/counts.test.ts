import { applyPeft, createViT, initBackend, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repAdapter } from '../src/index';

// ViT-B/16 is built (random init) but never run: only parameter counts are checked.
let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

/** One adapter of the reference (`RepAdapter(in_features=D, hidden_dim=h, groups=g)`): conv_A D·h + h, conv_B D·h/g + D. */
const perAdapter = (d: number, h: number, g: number) => d * h + h + (d * h) / g + d;

describe('RepAdapter parameter counts on ViT-B/16 (from the formula)', () => {
  it('repblock, hidden 8, 2 groups: 12 blocks x 2 adapters x 9,992 = 239,808', () => {
    const model = applyPeft(vit, repAdapter(), { numClasses: 100 });
    expect(perAdapter(768, 8, 2)).toBe(9_992);
    expect(model.summary().trainableExcludingHead).toBe(12 * 2 * perAdapter(768, 8, 2));
    expect(model.summary().trainableExcludingHead).toBe(239_808);
    model.dispose();
  });

  it('repattn (before qkv only): 119,904', () => {
    const model = applyPeft(vit, repAdapter({ targets: ['blocks.*.attn.qkv'] }), { numClasses: 100 });
    expect(model.summary().trainableExcludingHead).toBe(12 * perAdapter(768, 8, 2));
    model.dispose();
  });
});
