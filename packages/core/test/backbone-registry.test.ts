import { beforeAll, describe, expect, it } from 'vitest';
import {
  createViT,
  initBackend,
  defineBackbone,
  getBackbone,
  hasBackbone,
  listBackbones,
  loadBackbone,
  registerBackbone,
  unregisterBackbone,
  UnknownBackboneError,
  vitConfigs,
  VpeftError,
} from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe('backbone registry', () => {
  it("registers core's ViT configs on import", () => {
    for (const name of Object.keys(vitConfigs)) expect(hasBackbone(name)).toBe(true);
    expect(getBackbone('vit_test_patch8_32').acceptsWeights).toBe(true);
  });

  it('loads a registered backbone by name (seed-0 random init, as createViT)', async () => {
    const loaded = await loadBackbone('vit_test_patch8_32');
    const direct = createViT('vit_test_patch8_32');
    expect(loaded.config).toEqual(direct.config);
    expect([...loaded.parameters.variable('blocks.0.attn.qkv.weight').dataSync()]).toEqual([...direct.parameters.variable('blocks.0.attn.qkv.weight').dataSync()]);
    loaded.dispose();
    direct.dispose();
  });

  it('names the registered backbones when a name is unknown', async () => {
    await expect(loadBackbone('resnet9000')).rejects.toThrow(UnknownBackboneError);
    await expect(loadBackbone('resnet9000')).rejects.toThrow(/unknown backbone "resnet9000"; known: .*vit_test_patch8_32/);
  });

  it('registers a third-party backbone, refuses a clash and a weights file it cannot read', async () => {
    const definition = defineBackbone({ name: 'tiny_test_vit', description: 'a test backbone', packageName: 'vpeft-backbone-test', load: () => createViT('vit_test_patch8_32') });
    registerBackbone(definition);
    try {
      registerBackbone(definition); // same definition again: no-op
      expect(listBackbones().map((b) => b.name)).toContain('tiny_test_vit');
      expect(() => registerBackbone({ ...definition, packageName: 'another-package' })).toThrow(/already registered by vpeft-backbone-test/);
      await expect(loadBackbone('tiny_test_vit', { weights: 'x.safetensors' })).rejects.toThrow(/takes no weights file/);
      const backbone = await loadBackbone('tiny_test_vit');
      expect(backbone.featureDim).toBe(32);
      backbone.dispose();
    } finally {
      unregisterBackbone('tiny_test_vit');
    }
    expect(hasBackbone('tiny_test_vit')).toBe(false);
  });

  it('checks definitions', () => {
    expect(() => defineBackbone({ name: 'bad name', description: 'x', load: () => createViT('vit_test_patch8_32') })).toThrow(VpeftError);
    expect(() => defineBackbone({ name: 'ok', description: '', load: () => createViT('vit_test_patch8_32') })).toThrow(/description/);
  });
});
