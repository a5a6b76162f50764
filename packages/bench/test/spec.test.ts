import { describe, expect, it } from 'vitest';
import { BenchSpecError, gridCells, hyperPoints, parseBenchSpec, parseShard, shardCells, specHash } from '../src/index';

const base = {
  backbones: ['vit_tiny_patch7_28_mnist04'],
  tasks: ['mnist:classes=5|6'],
  methods: ['linear', 'bitfit', { lora: { r: [4, 8] } }],
  hyper: { lr: [1e-3, 3e-3], weightDecay: [0, 1e-4], epochs: 2, warmupEpochs: 0 },
  seeds: [1, 2, 3],
};

function error(raw: unknown, overrides?: { protocol?: string }): string {
  try {
    parseBenchSpec(raw, overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(BenchSpecError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a BenchSpecError');
}

describe('parseBenchSpec', () => {
  it('expands option grids and compositions into method variants', () => {
    const spec = parseBenchSpec({
      ...base,
      methods: [...base.methods, { name: 'lora+vpt', compose: [{ lora: { r: 4 } }, { vpt: { tokens: [2, 5], deep: true } }] }, { method: 'lora', options: { r: 2, slices: ['q'] }, hyper: { lr: 0.01 } }],
    });
    expect(spec.methods.map((m) => m.label)).toEqual([
      'linear',
      'bitfit',
      'lora r=4',
      'lora r=8',
      'lora+vpt (lora r=4 + vpt tokens=2,deep=true)',
      'lora+vpt (lora r=4 + vpt tokens=5,deep=true)',
      'lora r=2,slices=q',
    ]);
    expect(spec.methods[4]!.family).toBe('lora+vpt');
    // A list-valued option ([q]) is one value, not a grid axis; the entry's hyper overrides lr only.
    expect(spec.methods[6]!.components[0]!.options).toEqual({ r: 2, slices: ['q'] });
    expect(spec.methods[6]!.hyper.lr).toEqual([0.01]);
    expect(spec.methods[6]!.hyper.weightDecay).toEqual([0, 1e-4]);
    // 2 lr x 2 wd x 1 epochs.
    expect(hyperPoints(spec.hyper)).toHaveLength(4);
    expect(gridCells(spec)).toHaveLength(7);
    expect(spec.protocol).toBe('val200');
  });

  it('expands a VTAB-1k set and knows each task group', () => {
    const spec = parseBenchSpec({ ...base, tasks: [{ vtab1k: '/data/vtab', tasks: ['cifar', 'eurosat', 'kitti'] }] });
    expect(spec.tasks.map((t) => [t.data, t.group])).toEqual([
      ['vtab1k:/data/vtab:cifar', 'natural'],
      ['vtab1k:/data/vtab:eurosat', 'specialized'],
      ['vtab1k:/data/vtab:kitti', 'structured'],
    ]);
    expect(parseBenchSpec({ ...base, tasks: [{ vtab1k: '/data/vtab', tasks: 'all' }] }).tasks).toHaveLength(19);
  });

  it('rejects bad specs with one clear line each', () => {
    expect(error({ ...base, methods: ['lora', 'nosuch'] })).toMatch(/spec\.methods\[1\]: unknown method "nosuch"; installed: linear, .*lora/);
    expect(error({ ...base, methods: [{ lora: { rank: [4] } }] })).toMatch(/spec\.methods\[0\]\.lora: lora has no option "rank"; options: .*\br\b/);
    expect(error({ ...base, methods: [{ lora: { r: -1 } }] })).toMatch(/spec\.methods\[0\]\.lora: .*r/);
    expect(error({ ...base, tasks: ['vtab1k:/data:cifar1000'] })).toMatch(/spec\.tasks\[0\]: unknown VTAB-1k task "cifar1000"/);
    expect(error({ ...base, tasks: ['imagenet'] })).toMatch(/unknown task kind "imagenet".*allowed: mnist, emoji, vtab1k, fgvc, folder/);
    expect(error({ ...base, tasks: ['folder:/a:/b'] })).toMatch(/needs a test folder/);
    expect(error({ ...base, methods: [] })).toMatch(/the grid is empty: spec\.methods has no entries/);
    expect(error({ ...base, tasks: [] })).toMatch(/the grid is empty: spec\.tasks/);
    expect(error({ ...base, backbones: [] })).toMatch(/the grid is empty: spec\.backbones/);
    expect(error({ ...base, hyper: { lr: [] } })).toMatch(/spec\.hyper\.lr: the list is empty/);
    expect(error({ ...base, hyper: { epochs: 1 } })).toMatch(/spec\.hyper\.warmupEpochs: 1 warm-up epochs leave no decay in a 1-epoch run/);
    expect(error({ ...base, hyper: { momentum: 0.9 } })).toMatch(/spec\.hyper: unknown key "momentum"/);
    expect(error({ ...base, method: ['lora'] })).toMatch(/spec: unknown key "method"/);
    expect(error({ ...base, methods: ['lora', 'lora'] })).toMatch(/"lora" appears twice/);
    expect(error(base, { protocol: 'best-test' })).toMatch(/unknown protocol "best-test"; allowed: val200, benchmark-code/);
  });

  it('hashes the expanded spec: equal specs agree, any change differs', () => {
    expect(specHash(parseBenchSpec(base))).toBe(specHash(parseBenchSpec(structuredClone(base))));
    expect(specHash(parseBenchSpec({ ...base, seeds: [1, 2] }))).not.toBe(specHash(parseBenchSpec(base)));
    expect(specHash(parseBenchSpec(base, { protocol: 'benchmark-code' }))).not.toBe(specHash(parseBenchSpec(base)));
  });
});

describe('shards', () => {
  it('partition the grid: every cell in exactly one shard, deterministically', () => {
    const cells = gridCells(parseBenchSpec({ ...base, tasks: ['mnist', 'emoji'] }));
    expect(cells).toHaveLength(8);
    const slices = [0, 1, 2].map((i) => shardCells(cells, parseShard(`${i}/3`)).map((c) => c.index));
    expect(slices).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5],
    ]);
  });

  it('reject an index out of range and malformed values', () => {
    expect(() => parseShard('3/3')).toThrow(/shard index 3 is out of range; allowed 0\.\.2/);
    expect(() => parseShard('1-3')).toThrow(/expected i\/N/);
    expect(() => parseShard('0/0')).toThrow(/at least 1/);
    const cells = gridCells(parseBenchSpec(base));
    expect(() => shardCells(cells, parseShard('0/9'))).toThrow(/more shards than the grid's 4 cells/);
  });
});
