import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparable, runCaptured } from './bench-helpers';

const SPEC = fileURLToPath(new URL('./fixtures/bench-tiny.yaml', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const METHODS = ['linear', 'bitfit', 'lora r=2'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-bench-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function specFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('vpeft bench: bad specs fail before training, one line, exit 2', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown method', 'methods: [lora, nosuch]', /spec\.methods\[1\]: unknown method "nosuch"; installed: linear, /],
    ['unknown option', 'methods: [{ lora: { rank: [4, 8] } }]', /lora has no option "rank"; options: /],
    ['unknown task', 'methods: [linear]\ntasks: ["vtab1k:/nowhere:cifar1000"]', /unknown VTAB-1k task "cifar1000"/],
    ['empty grid', 'methods: []', /the grid is empty: spec\.methods has no entries/],
  ];
  for (const [what, yaml, message] of cases) {
    it(what, async () => {
      const base = await readFile(SPEC, 'utf8');
      const text = yaml.includes('tasks:') ? `${base.replace(/tasks:[\s\S]*?methods:[\s\S]*?hyper:/, 'hyper:')}\n${yaml}\n` : `${base.replace(/methods:[\s\S]*?hyper:/, 'hyper:')}\n${yaml}\n`;
      const path = await specFile(`${what.replace(/ /g, '-')}.yaml`, text);
      const { code, stderr } = await runCaptured(['bench', '--spec', path, '--out', join(dir, 'never')]);
      expect(code).toBe(2);
      const [line] = stderr.split('\n');
      expect(line).toMatch(message);
      expect(stderr).not.toMatch(/cell 1\//);
    });
  }

  it('shard index out of range', async () => {
    const { code, stderr } = await runCaptured(['bench', '--spec', SPEC, '--shard', '3/3', '--out', join(dir, 'never')]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(/--shard 3\/3: shard index 3 is out of range; allowed 0\.\.2/);
  });
});

describe('vpeft bench: a tiny grid, sharded and not', () => {
  it('shards 0/3, 1/3, 2/3 + merge give the unsharded results', async () => {
    const whole = join(dir, 'whole');
    const sharded = join(dir, 'sharded');
    const run = await runCaptured(['bench', '--spec', SPEC, '--out', whole]);
    expect(run.code, run.stderr).toBe(0);
    for (const i of [0, 1, 2]) {
      const shard = await runCaptured(['bench', '--spec', SPEC, '--out', sharded, '--shard', `${i}/3`]);
      expect(shard.code, shard.stderr).toBe(0);
      expect(shard.stdout).toContain(`results.shard-${i}-of-3.jsonl`);
    }
    const merge = await runCaptured(['bench', 'merge', '--out', sharded]);
    expect(merge.code, merge.stderr).toBe(0);
    const a = JSON.parse(await readFile(join(whole, 'results.json'), 'utf8')) as { cells: Record<string, unknown>[]; specHash: string };
    const b = JSON.parse(await readFile(join(sharded, 'results.json'), 'utf8')) as { cells: Record<string, unknown>[]; specHash: string };
    expect(b.specHash).toBe(a.specHash);
    expect(a.cells).toHaveLength(3);
    expect(b.cells.map(comparable)).toEqual(a.cells.map(comparable));
  });

  it('merge refuses shards of another spec and missing shards', async () => {
    const other = await specFile('other.yaml', (await readFile(SPEC, 'utf8')).replace('seeds: [7]', 'seeds: [8]'));
    const mixed = join(dir, 'mixed');
    // Shard 1/3 of another spec holds one cell: cheap to run.
    expect((await runCaptured(['bench', '--spec', other, '--out', mixed, '--shard', '1/3'])).code).toBe(0);
    // Shard files that are missing or from another spec are the user's input: exit 2 (BenchResultsError).
    const missing = await runCaptured(['bench', 'merge', '--out', mixed]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing shard results for 0\/3, 2\/3/);
    const refused = await runCaptured(['bench', 'merge', '--out', mixed, join(mixed, 'results.shard-1-of-3.jsonl'), join(dir, 'sharded', 'results.shard-0-of-3.jsonl')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/comes from another spec/);
  });

  it('the reports are complete and consistent', async () => {
    const whole = join(dir, 'whole');
    const json = JSON.parse(await readFile(join(whole, 'results.json'), 'utf8')) as {
      cells: { method: string; testTop1: number; testBySeed: number[]; ppt: number; params: { trainable: number; trainableWithHead: number; backbone: number }; percentOfBackbone: number; valTop1: number }[];
    };
    expect(json.cells.map((c) => c.method)).toEqual(METHODS);
    for (const c of json.cells) {
      expect(c.ppt).toBeCloseTo(c.testTop1 * Math.exp(-Math.log10(c.params.trainable / 1e7 + 1)), 12);
      expect(c.percentOfBackbone).toBeCloseTo((100 * c.params.trainable) / c.params.backbone, 12);
      expect(c.testTop1).toBe(c.testBySeed[0]);
      // 16 test images: accuracy is a multiple of 1/16.
      expect(Number.isInteger(c.testTop1 * 16)).toBe(true);
      expect(Number.isInteger(c.valTop1 * 8)).toBe(true);
    }
    // Linear probe: the head only, 192 features x 3 classes + 3 (ViT-Ti width 192).
    expect(json.cells[0]!.params).toMatchObject({ trainable: 0, trainableWithHead: 192 * 3 + 3 });
    // LoRA r=2 on q and v of 6 blocks of width 192: 6 · 2 · 2 · (192 + 192).
    expect(json.cells[2]!.params.trainable).toBe(6 * 2 * 2 * (192 + 192));
    const md = await readFile(join(whole, 'results.md'), 'utf8');
    for (const m of METHODS) expect(md).toContain(`| vit_tiny_patch7_28_mnist04 | mnist-5-7 | ${m} |`);
    expect(md).toContain('never used for selection');
    const csv = (await readFile(join(whole, 'results.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(4);
  });

  it('--protocol benchmark-code runs the published code\'s selection and labels it', async () => {
    const out = join(dir, 'benchmark-code');
    const run = await runCaptured(['bench', '--spec', SPEC, '--out', out, '--protocol', 'benchmark-code', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { protocol: string; protocolNote: string; cells: { valTop1: number | null; testTop1: number; protocol: string }[] };
    expect(report.protocol).toBe('benchmark-code');
    expect(report.protocolNote).toMatch(/selects on test and is optimistic; it is not a fair protocol/);
    for (const c of report.cells) {
      expect(c.valTop1).toBeNull();
      expect(Number.isInteger(c.testTop1 * 16)).toBe(true);
    }
    expect(await readFile(join(out, 'results.md'), 'utf8')).toContain('Protocol benchmark-code');
  });

  it('report.html renders in headless Chromium: every cell in the table, one plot mark per method, no console errors', async () => {
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless=new', '--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`file://${join(dir, 'whole', 'report.html')}`, { waitUntil: 'load' });
      // The callbacks run in the page; typed structurally because this package compiles without the DOM lib.
      type Node = { textContent: string | null; getAttribute(name: string): string | null; querySelectorAll(selector: string): ArrayLike<Node>; getBBox(): { width: number } };
      const rows = await page.$$eval('table.results tbody tr', (trs) => (trs as unknown as Node[]).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
      expect(rows.map((r) => r[2])).toEqual(METHODS);
      const panels = await page.$$eval('svg.vpeft-bench-plot g.panel', (gs) =>
        (gs as unknown as Node[]).map((g) => ({
          task: g.getAttribute('data-task'),
          marks: Array.from(g.querySelectorAll('.mark')).map((m) => {
            const box = m.getBBox();
            return { method: m.getAttribute('data-method'), width: box.width };
          }),
        })),
      );
      expect(panels.map((p) => p.task)).toEqual(['mnist-5-7', 'mean']);
      for (const p of panels) {
        expect(p.marks.map((m) => m.method)).toEqual(METHODS);
        // Rendered: each mark has a real size on the page.
        for (const m of p.marks) expect(m.width).toBeGreaterThan(0);
      }
      const shot = process.env.VPEFT_BENCH_SCREENSHOT ?? join(dir, 'report.png');
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
