import { applyPeft, createViT, initBackend, type MethodInput, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter, adaptformer, convpass } from '../src/index';

let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

const D = 768;
const bottleneck = (m: number) => D * m + m + m * D + D; // down + up, with biases
const count = (methods: MethodInput) => {
  const model = applyPeft(vit, methods, { numClasses: 10 });
  const n = model.summary().trainableExcludingHead;
  model.dispose();
  return n;
};

describe('adapter parameter counts on ViT-B/16 (v-peft-bench.md)', () => {
  it('adapter m=8 → 156,768; Houlsby m=8 → 313,536', () => {
    expect(12 * bottleneck(8)).toBe(156_768);
    expect(count(adapter({ bottleneck: 8 }))).toBe(156_768);
    expect(count(adapter({ bottleneck: 8, placement: 'houlsby' }))).toBe(313_536);
  });

  it('AdaptFormer m=8 → 156,768; m=64 → 1,189,632', () => {
    expect(count(adaptformer({ bottleneck: 8 }))).toBe(156_768);
    expect(count(adaptformer({ bottleneck: 64 }))).toBe(12 * bottleneck(64));
    expect(12 * bottleneck(64)).toBe(1_189_632);
  });

  it('Convpass m=8 → 327,552 (down, 3x3 conv with bias, up; beside attn and MLP)', () => {
    const perModule = bottleneck(8) + 3 * 3 * 8 * 8 + 8;
    expect(24 * perModule).toBe(327_552);
    expect(count(convpass({ bottleneck: 8 }))).toBe(327_552);
  });

  it('validates options with the option named', () => {
    expect(() => adapter({ bottleneck: 0 })).toThrow(/bottleneck/);
    expect(() => adapter({ placement: 'both' as 'mlp' })).toThrow(/"mlp" or "houlsby"/);
    expect(() => adaptformer({ dropout: 1.5 })).toThrow(/dropout/);
    expect(() => convpass({ branches: [] })).toThrow(/branches/);
  });
});
