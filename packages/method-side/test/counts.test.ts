import { applyPeft, createViT, initBackend, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { side } from '../src/index';

// ViT-B/16 (L = 12, D = 768) is built (random init) but never run: only parameter counts are checked.
let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

const L = 12;
const D = 768;
const linear = (i: number, o: number) => i * o + o;
const norm = (w: number) => 2 * w;

describe('side-tuning parameter counts on ViT-B/16', () => {
  it('r = 8 (w = 96): first downsample, 12 rungs (downsample, gate, transformer block), final norm, upsample, fusion gate', () => {
    const w = D / 8;
    const block = norm(w) + linear(w, 3 * w) + linear(w, w) + norm(w) + linear(w, 4 * w) + linear(4 * w, w);
    const expected = linear(D, w) + L * (linear(D, w) + 1 + block) + norm(w) + linear(w, D) + 1;
    const model = applyPeft(vit, side({ reduction: 8 }), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(expected);
    expect(expected).toBe(2_376_493);
    expect(model.parameters.get('side.blocks.3.output.block.attn.qkv.weight').variable.shape).toEqual([w, 3 * w]);
    expect(model.parameters.get('side.embed.output.downsample.weight').variable.shape).toEqual([D, w]);
    expect(model.parameters.has('side.embed.output.gate')).toBe(false);
    model.dispose();
  });

  it('an mlp ladder with replace fusion drops the side attention and the fusion gate', () => {
    const w = D / 16;
    const block = norm(w) + linear(w, 4 * w) + linear(4 * w, w);
    const expected = linear(D, w) + L * (linear(D, w) + 1 + block) + norm(w) + linear(w, D);
    const model = applyPeft(vit, side({ reduction: 16, block: 'mlp', fusion: 'replace' }), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(expected);
    model.dispose();
  });

  it('validates options with the option named', () => {
    expect(() => side({ reduction: 0 })).toThrow(/reduction/);
    expect(() => side({ block: 'conv' as 'mlp' })).toThrow(/block/);
    expect(() => side({ gateTemperature: 0 })).toThrow(/gateTemperature/);
    expect(() => applyPeft(vit, side({ reduction: 7 }), { numClasses: 2 })).toThrow(/reduction/);
    expect(() => applyPeft(vit, side({ heads: 5 }), { numClasses: 2 })).toThrow(/heads/);
    expect(() => applyPeft(vit, side({ taps: ['blocks.*.mlp'] }), { numClasses: 2 })).toThrow(/taps/);
  });
});
