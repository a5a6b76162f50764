import { beforeAll, describe, expect, it } from 'vitest';
import { createViT, initBackend, matchSites, OptionError, summarizeSiteNames, type SiteInfo } from '../src/index';

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
