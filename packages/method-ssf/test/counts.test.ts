import { applyPeft, createViT, initBackend, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssf } from '../src/index';

// ViT-B/16 is built (random init) but never run: only parameter counts are checked.
let vit: ViT;
beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_base_patch16_224');
});
afterAll(() => vit.dispose());

describe('SSF parameter count on ViT-B/16', () => {
  it('205,824 trainable besides the head (V-PEFT Bench)', () => {
    const model = applyPeft(vit, ssf(), { numClasses: 100 });
    // Published figure; derived: 2·(768 patch embed + 768 final norm) + 12 blocks · 2·(768 norm1 + 2304 qkv + 768 proj + 768 norm2 + 3072 fc1 + 768 fc2).
    expect(model.summary().trainableExcludingHead).toBe(205_824);
    expect(model.summary().trainableExcludingHead).toBe(2 * (768 + 768) + 12 * 2 * (768 + 2304 + 768 + 768 + 3072 + 768));
    expect(model.parameters.get('ssf.blocks.0.attn.qkv.scale').variable.shape).toEqual([2304]);
    expect(model.parameters.get('ssf.norm.shift').variable.shape).toEqual([768]);
    model.dispose();
  });

  it('initialises scale ~ N(1, 0.02) and shift ~ N(0, 0.02)', () => {
    const model = applyPeft(vit, ssf(), { numClasses: 2 });
    const stats = (suffix: string) => {
      const values = model.parameters.list().filter((p) => p.owner === 'ssf' && p.name.endsWith(suffix)).flatMap((p) => Array.from(p.variable.dataSync()));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      return { mean, std, n: values.length };
    };
    const scale = stats('.scale');
    const shift = stats('.shift');
    expect(scale.n).toBe(205_824 / 2);
    // ~100k samples: the mean is within 0.001 and the std within 2% of the target with overwhelming probability.
    expect(Math.abs(scale.mean - 1)).toBeLessThan(1e-3);
    expect(Math.abs(shift.mean)).toBeLessThan(1e-3);
    expect(Math.abs(scale.std - 0.02)).toBeLessThan(4e-4);
    expect(Math.abs(shift.std - 0.02)).toBeLessThan(4e-4);
    model.dispose();
  });
});
