import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  appendRecord,
  csvReport,
  markdownReport,
  meanRows,
  meanStd,
  openResults,
  parseBenchSpec,
  ppt,
  readResults,
  specHash,
  svgPlot,
  type CellResult,
  type HeaderRecord,
  type TaskGroup,
} from '../src/index';

function cell(index: number, task: string, group: TaskGroup | null, method: string, testTop1: number, trainable: number): CellResult {
  return {
    kind: 'cell',
    index,
    id: `vit | ${task} | ${method}`,
    backbone: 'vit',
    task,
    taskGroup: group,
    method,
    family: method.split(' ')[0]!,
    protocol: 'val200',
    chosen: { lr: 1e-3, weightDecay: 1e-4, epochs: 10 },
    valTop1: testTop1 - 0.01,
    testTop1,
    testStd: 0,
    seeds: [42],
    testBySeed: [testTop1],
    params: { trainable, trainableWithHead: trainable + 1000, backbone: 85_800_000 },
    percentOfBackbone: (100 * trainable) / 85_800_000,
    ppt: ppt(testTop1, trainable),
    imagesPerSecond: 10,
    peakMemoryBytes: 2 ** 20,
    wallSeconds: 1,
    adapterBytes: 4 * trainable,
  };
}

describe('metrics', () => {
  it('PPT follows M · exp(−log10(P/1e7 + 1)) (values worked by hand)', () => {
    // P = 1e7: exp(−log10 2) = exp(−0.30103) = 0.740055.
    expect(ppt(0.8, 1e7)).toBeCloseTo(0.8 * 0.740055, 5);
    // P = 0 (linear probe without the head): PPT = M.
    expect(ppt(0.5294, 0)).toBe(0.5294);
    // LoRA's 0.29M at the published 72.25: exp(−log10 1.0294894) = exp(−0.012623) = 0.987457.
    expect(ppt(0.7225, 294_912)).toBeCloseTo(0.7225 * 0.987457, 5);
  });

  it('mean ± sample std', () => {
    const { mean, std } = meanStd([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(meanStd([0.7])).toEqual({ mean: 0.7, std: 0 });
  });
});

describe('reports', () => {
  const cells = [
    cell(0, 'cifar', 'natural', 'linear', 0.8, 0),
    cell(1, 'cifar', 'natural', 'lora r=8', 0.9, 294_912),
    cell(2, 'dtd', 'natural', 'linear', 0.4, 0),
    cell(3, 'dtd', 'natural', 'lora r=8', 0.5, 294_912),
    cell(4, 'eurosat', 'specialized', 'linear', 0.9, 0),
    cell(5, 'eurosat', 'specialized', 'lora r=8', 0.95, 294_912),
    cell(6, 'kitti', 'structured', 'linear', 0.5, 0),
    cell(7, 'kitti', 'structured', 'lora r=8', 0.7, 294_912),
  ];

  it('computes the VTAB mean both ways, labelled', () => {
    const [linear, lora] = meanRows(cells);
    // linear: tasks (0.8 + 0.4 + 0.9 + 0.5) / 4 = 0.65; groups (0.6 + 0.9 + 0.5) / 3 = 0.66667.
    expect(linear!.values.tasks).toBeCloseTo(0.65, 12);
    expect(linear!.values['vtab-tasks']).toBeCloseTo(0.65, 12);
    expect(linear!.values['vtab-groups']).toBeCloseTo(2 / 3, 12);
    // lora: tasks (0.9 + 0.5 + 0.95 + 0.7) / 4 = 0.7625; groups (0.7 + 0.95 + 0.7) / 3 = 0.78333.
    expect(lora!.values.tasks).toBeCloseTo(0.7625, 12);
    expect(lora!.values['vtab-groups']).toBeCloseTo(2.35 / 3, 12);
    const md = markdownReport(cells, 'val200');
    expect(md).toContain('VTAB-1k: mean of 4 tasks, test top-1 %');
    expect(md).toContain('VTAB-1k: mean of group means (Natural 2, Specialized 1, Structured 1), test top-1 %');
    expect(md).toContain('| vit | linear | 65.00 | 65.00 | 66.67 |');
    expect(md).toContain('never used for selection');
    expect(markdownReport(cells, 'benchmark-code')).toMatch(/best test top-1 over epochs .* not a fair protocol/);
  });

  it('lists every cell in the markdown and CSV, and one plot mark per method per panel', () => {
    const md = markdownReport(cells, 'val200');
    for (const c of cells) expect(md).toContain(`| vit | ${c.task} | ${c.method} |`);
    const csv = csvReport(cells).trim().split('\n');
    expect(csv).toHaveLength(1 + cells.length);
    const header = csv[0]!.split(',');
    for (const [i, c] of cells.entries()) {
      const row = csv[i + 1]!.split(',');
      const value = (name: string) => Number(row[header.indexOf(name)]);
      // PPT recomputed from the row's own accuracy and parameter count.
      expect(value('ppt')).toBeCloseTo(value('test_top1') * Math.exp(-Math.log10(value('trainable_params') / 1e7 + 1)), 12);
      expect(value('test_top1')).toBe(c.testTop1);
    }
    const svg = svgPlot(cells);
    const panels = svg.split('<g class="panel"').slice(1);
    // 4 tasks + the mean panel, each with one mark per method.
    expect(panels).toHaveLength(5);
    for (const panel of panels) expect(panel.match(/class="mark"/g)).toHaveLength(2);
    expect(svg.match(/class="legend-item"/g)).toHaveLength(2);
  });
});

describe('results file', () => {
  it('drops a torn last line on resume and refuses another spec', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-bench-file-'));
    try {
      const spec = parseBenchSpec({ backbones: ['b'], tasks: ['mnist'], methods: ['linear'] });
      const header: HeaderRecord = { kind: 'header', format: 'vpeft-bench-results', version: 1, specHash: specHash(spec), spec, cells: 1, shard: null };
      const path = join(dir, 'results.jsonl');
      await openResults(path, header);
      const done = cell(0, 'mnist', null, 'linear', 0.9, 0);
      await appendRecord(path, done);
      const intact = await readFile(path, 'utf8');
      await writeFile(path, `${intact}{"kind":"cell","index":1,"id":"tor`);
      const resumed = await openResults(path, header);
      expect(resumed.cells).toEqual([done]);
      expect(await readFile(path, 'utf8')).toBe(intact);
      const other = parseBenchSpec({ backbones: ['b'], tasks: ['mnist'], methods: ['linear'], seeds: [7] });
      await expect(openResults(path, { ...header, spec: other, specHash: specHash(other) })).rejects.toThrow(/holds results of another spec/);
      expect((await readResults(path))!.header.specHash).toBe(specHash(spec));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
