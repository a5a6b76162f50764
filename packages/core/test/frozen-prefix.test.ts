import { describe, expect, it } from 'vitest';
import { blockSteps, frozenPrefixLength, frozenUnits, type Parameter, type SiteInfo } from '../src/index';

const param = (name: string, block?: number, trainable = false) => ({ name, block, trainable }) as unknown as Parameter;
const site = (name: string, block?: number, kind: SiteInfo['kind'] = 'linear'): SiteInfo => ({ name, kind, block });

describe('the shared frozen-part rule', () => {
  it('a unit is frozen unless it trains, has an active site, or reads a live unit', () => {
    const units = [
      { name: 'a', inputs: [], parameters: [param('a.w')], sites: ['a'] },
      { name: 'b', inputs: ['a'], parameters: [param('b.w', undefined, true)], sites: [] },
      { name: 'c', inputs: ['a'], parameters: [], sites: ['c'] },
      { name: 'd', inputs: ['c'], parameters: [], sites: [] },
      { name: 'e', inputs: ['b', 'd'], parameters: [], sites: [] },
    ];
    expect([...frozenUnits(units, () => false)].sort()).toEqual(['a', 'c', 'd']);
    expect([...frozenUnits(units, (s) => s === 'c')].sort()).toEqual(['a']);
    expect(frozenPrefixLength(units, () => false)).toBe(1);
  });

  it('places block-less items of a sequential backbone by forward order (a merge between blocks joins the next block)', () => {
    const params = [param('embed'), param('b0', 0), param('merge'), param('b1', 1), param('norm')];
    const sites = [site('embed'), site('b0', 0), site('tap0', 0, 'tap'), site('merge'), site('b1', 1), site('norm')];
    const steps = blockSteps(params, sites, 2);
    expect(steps.map((s) => s.parameters.map((p) => p.name))).toEqual([['embed'], ['b0'], ['merge', 'b1'], ['norm']]);
    expect(steps.map((s) => s.sites)).toEqual([['embed'], ['b0'], ['merge', 'b1'], ['norm']]);
    expect(frozenPrefixLength(steps, (s) => s === 'merge')).toBe(2);
  });
});
