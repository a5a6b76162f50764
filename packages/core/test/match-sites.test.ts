import { beforeAll, describe, expect, it } from 'vitest';
import { createViT, initBackend, matchSites, MethodNotApplicableError, OptionError, summarizeSiteNames, type SiteInfo } from '../src/index';

describe('matchSites', () => {
  let sites: SiteInfo[];
  beforeAll(async () => {
    await initBackend();
    const vit = createViT('vit_test_patch8_32');
    sites = vit.sites();
    vit.dispose();
  });

  it('returns the sites of the allowed kinds matching any glob, in the backbone\'s order, once each', () => {
    const hits = matchSites(sites, ['blocks.1.mlp.*', 'blocks.*.mlp.fc1'], { kinds: ['linear'], option: 'targets', method: 'm' });
    expect(hits.map((s) => s.name)).toEqual(['blocks.0.mlp.fc1', 'blocks.1.mlp.fc1', 'blocks.1.mlp.fc2']);
    expect(hits.every((s) => s.kind === 'linear')).toBe(true);
  });

  it('filters by kind: a glob matching only other kinds counts as no match', () => {
    expect(() => matchSites(sites, ['blocks.0.norm1'], { kinds: ['linear'], option: 'targets', method: 'm' })).toThrow(OptionError);
    const norms = matchSites(sites, ['blocks.0.norm1'], { kinds: ['norm'], option: 'targets', method: 'm' });
    expect(norms.map((s) => [s.name, s.kind])).toEqual([['blocks.0.norm1', 'norm']]);
  });

  it('names the option, the glob and the sites that exist when a glob matches nothing', () => {
    expect(() => matchSites(sites, ['blocks.*.attn.q'], { kinds: ['linear'], option: 'targets', method: 'lora-like' })).toThrow(
      /lora-like: option `targets` got "blocks\.\*\.attn\.q"; expected a glob over linear sites; this backbone has .*blocks\.\{0\.\.1\}\.attn\.qkv/,
    );
  });
});

describe('summarizeSiteNames', () => {
  it('collapses numbered runs into {min..max} and keeps other names', () => {
    expect(summarizeSiteNames(['head_pre', 'blocks.0.x', 'blocks.1.x', 'blocks.2.x', 'stages.3.y'])).toBe('head_pre, blocks.{0..2}.x, stages.3.y');
  });
});

describe('matchSites by role', () => {
  const sites: SiteInfo[] = [
    { name: 'stem', kind: 'conv', role: 'conv.spatial', stage: 0 },
    { name: 'a.expand', kind: 'conv', role: 'conv.pointwise', stage: 0 },
    { name: 'b.expand', kind: 'conv', role: 'conv.pointwise', stage: 1 },
    { name: 'b.dw', kind: 'conv', role: 'conv.depthwise', stage: 1 },
    { name: 'b.bn', kind: 'norm', role: 'norm', stage: 1 },
  ];
  const options = { kinds: ['conv'] as const, option: 'targets', method: 'test', backbone: 'tiny_cnn' };

  it('selects by declared role, optionally in the last stage; a role that matches nothing is fine when another does', () => {
    expect(matchSites(sites, ['@conv.pointwise'], options).map((s) => s.name)).toEqual(['a.expand', 'b.expand']);
    expect(matchSites(sites, ['@attention.qkv', '@conv.pointwise:last-stage'], options).map((s) => s.name)).toEqual(['b.expand']);
    expect(matchSites(sites, ['@conv.depthwise', 'stem'], options).map((s) => s.name)).toEqual(['stem', 'b.dw']);
  });

  it('says the method does not apply when its roles match nothing, and refuses unknown roles', () => {
    expect(() => matchSites(sites, ['@attention.qkv'], options)).toThrow(MethodNotApplicableError);
    expect(() => matchSites(sites, ['@attention.qkv'], options)).toThrow(/test does not apply to tiny_cnn: no conv site has role @attention.qkv; its conv sites have roles conv.spatial, conv.pointwise, conv.depthwise/);
    expect(() => matchSites(sites, ['@nonsense'], options)).toThrow(OptionError);
  });

  it('the ViT declares the roles the defaults use', async () => {
    await initBackend();
    const vit = createViT('vit_test_patch8_32');
    const roles = Object.fromEntries(vit.sites().filter((s) => s.block === 0 && s.role).map((s) => [s.name, s.role]));
    expect(roles).toEqual({
      'blocks.0.norm1': 'norm', 'blocks.0.attn.qkv': 'attention.qkv', 'blocks.0.attn.core': 'attention.core', 'blocks.0.attn.proj': 'attention.out',
      'blocks.0.norm2': 'norm', 'blocks.0.mlp.fc1': 'mlp.in', 'blocks.0.mlp.fc2': 'mlp.out',
    });
    vit.dispose();
  });
});
