import { applyPeft, createViT, initBackend, OptionError, type SiteInfo, type ViT } from '@vpeft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lora, loraMethod } from '../src/index';

let vit: ViT;

beforeAll(async () => {
  await initBackend();
  vit = createViT('vit_test_patch8_32');
});

afterAll(() => vit.dispose());

describe('lora options', () => {
  it.each([0, -2, 1.5, Number.NaN])('rejects r = %s, naming the option and what is allowed', (r) => {
    expect(() => lora({ r })).toThrow(OptionError);
    expect(() => lora({ r })).toThrow(/option `r` got .*; expected a positive integer rank/);
  });

  it('rejects other invalid options with the option name', () => {
    expect(() => lora({ alpha: 0 })).toThrow(/option `alpha`/);
    expect(() => lora({ dropout: 1 })).toThrow(/option `dropout` got 1; expected a rate in \[0, 1\)/);
    expect(() => lora({ targets: [] })).toThrow(/option `targets`/);
    expect(() => lora({ slices: [] })).toThrow(/option `slices`/);
    expect(() => lora({ slices: ['q', 'q'] })).toThrow(/distinct slice names/);
    expect(() => lora({ init: 'xavier' as never })).toThrow(/option `init` got "xavier"; expected one of "kaiming-uniform", "trunc-normal"/);
    expect(() => lora({ rank: 8 } as never)).toThrow(/option `rank`.*one of the options r, alpha, dropout, targets, slices, init, dora, rslora/);
    expect(() => lora({ dora: 'yes' as never })).toThrow(/option `dora` got "yes"; expected true or false/);
    expect(() => lora({ rslora: 1 as never })).toThrow(/option `rslora`/);
  });

  it('rejects a slice the fused site does not have, listing the ones it has', () => {
    expect(() => applyPeft(vit, lora({ slices: ['q', 'x'] }), { numClasses: 3 })).toThrow(
      /option `slices` got \["q","x"\]; expected names of the fused outputs of blocks\.0\.attn\.qkv \(q, k, v\), or "all"/,
    );
  });

  it('rejects a target glob that matches no site, listing the linear/conv sites that exist', () => {
    expect(() => applyPeft(vit, lora({ targets: ['blocks.*.attn.qkvz'] }), { numClasses: 3 })).toThrow(
      /option `targets` got "blocks\.\*\.attn\.qkvz"; expected a glob over linear\/conv sites; this backbone has patch_embed\.proj, blocks\.\{0\.\.1\}\.attn\.qkv, blocks\.\{0\.\.1\}\.attn\.proj/,
    );
    // Norm sites exist but are not LoRA targets.
    expect(() => applyPeft(vit, lora({ targets: ['blocks.*.norm1'] }), { numClasses: 3 })).toThrow(/option `targets` got "blocks\.\*\.norm1"/);
  });

  it('accepts "all" and ["all"] for the whole matrix (the CLI passes lists)', () => {
    for (const slices of ['all', ['all']] as const) {
      const model = applyPeft(vit, lora({ r: 2, slices: slices as never }), { numClasses: 3 });
      expect(model.parameters.get('lora.blocks.0.attn.qkv.lora_B').variable.shape).toEqual([2, 96]);
      model.dispose();
    }
  });

  it('refuses depthwise/grouped conv sites and conv sites with a fused activation', () => {
    const conv: SiteInfo = { name: 'dw', kind: 'conv', inFeatures: 4, outFeatures: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', groups: 4, weight: 'dw.kernel' };
    const options = { ...loraMethod.defaults, targets: ['dw'] };
    expect(() => loraMethod.targets!([conv], options)).toThrow(/groups = 4; LoRA on depthwise\/grouped convs is not supported/);
    const activated = { ...conv, groups: 1, activation: 'relu' } as SiteInfo;
    expect(() => loraMethod.targets!([activated], options)).toThrow(/without a fused activation \(this one applies "relu"\)/);
    expect(loraMethod.targets!([{ ...conv, groups: 1 }], options).map((s) => s.name)).toEqual(['dw']);
  });
});
