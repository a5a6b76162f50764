import { applyPeft, createViT, initBackend, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fact } from '../src/index';

// ViT-B/16 is built (random init) but never run: only parameter counts are checked.
let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

describe('FacT parameter counts on ViT-B/16', () => {
  it.each([
    [4, 8_448],
    [8, 21_504],
    [16, 61_440],
  ])('FacT-TT r = %i: %i trainable besides the head (V-PEFT Bench)', (r, published) => {
    const model = applyPeft(vit, fact({ variant: 'tt', r }), { numClasses: 100 });
    // Published figure; derived: U and V (2·768·r) + per block q, k, v, proj r² each and fc1, fc2 4r² each (12·12r²).
    expect(model.summary().trainableExcludingHead).toBe(published);
    expect(model.summary().trainableExcludingHead).toBe(2 * 768 * r + 12 * 12 * r * r);
    expect(model.parameters.get('fact.FacTu').variable.shape).toEqual([768, r]);
    expect(model.parameters.get('fact.blocks.11.mlp.fc2.fc2_FacTs').variable.shape).toEqual([4 * r, r]);
    model.dispose();
  });

  it("FacT-TK r = 8: U, V, P [r, 144] and C [r, r, r] (fact_tk.py's set_FacT) = 2·768·8 + 8·144 + 8³", () => {
    const model = applyPeft(vit, fact({ variant: 'tk', r: 8 }), { numClasses: 100 });
    expect(model.summary().trainableExcludingHead).toBe(2 * 768 * 8 + 8 * 144 + 8 ** 3);
    expect(model.parameters.get('fact.FacTp').variable.shape).toEqual([8, 144]);
    model.dispose();
  });
});
