import { applyPeft, createViT, initBackend, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitfit, lnTune, partial } from '../src/index';

let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

const D = 768;
const DEPTH = 12;
const MLP = 3072;

describe('parameter counts on ViT-B/16 (v-peft-bench.md)', () => {
  it('BitFit trains 102,912 parameters besides the head', () => {
    // Per block: qkv 3D + proj D + fc1 4D + fc2 D + two LayerNorm shifts 2D; plus patch-embed D and final norm D.
    expect(DEPTH * (3 * D + D + MLP + D + 2 * D) + D + D).toBe(102_912);
    const model = applyPeft(vit, bitfit(), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(102_912);
    model.dispose();
  });

  it('LN-tune trains 2·768·(2·12+1) = 38,400', () => {
    const model = applyPeft(vit, lnTune(), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(2 * D * (2 * DEPTH + 1));
    model.dispose();
  });

  it('partial-1 trains exactly one block', () => {
    const block = 3 * D * D + 3 * D + D * D + D + D * MLP + MLP + MLP * D + D + 4 * D;
    const model = applyPeft(vit, partial({ lastBlocks: 1 }), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(block);
    expect(model.trainableParameters().filter((p) => p.owner === 'backbone').every((p) => p.name.startsWith('blocks.11.'))).toBe(true);
    model.dispose();
  });

  it('partial with globs adds named parameters; options are validated', () => {
    const model = applyPeft(vit, partial({ lastBlocks: 0, include: ['norm.*', 'blocks.0.mlp.fc2.**'] }), { numClasses: 10 });
    expect(model.summary().trainableExcludingHead).toBe(2 * D + MLP * D + D);
    model.dispose();
    expect(() => partial({ lastBlocks: -1 })).toThrow(/lastBlocks.*integer >= 0/);
    expect(() => partial({ lastBlocks: 0 })).toThrow(/nothing is tuned/);
    expect(() => bitfit({ roles: ['biases' as 'bias'] })).toThrow(/roles/);
    expect(() => applyPeft(vit, partial({ lastBlocks: 13 }), { numClasses: 2 })).toThrow(/at most the backbone's depth \(12\)/);
    // A glob with a typo selects nothing: an error rather than a silent linear probe.
    expect(() => applyPeft(vit, partial({ lastBlocks: 0, include: ['block.11.**'] }), { numClasses: 2 })).toThrow(
      /partial: option `options` .*block\.11\.\*\*.*select at least one parameter of backbone vit_base_patch16_224/,
    );
  });
});
