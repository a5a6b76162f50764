// Bad input through the `vpeft` binary: every case prints ONE line on stderr that says what was
// wrong, where and what is allowed, exits 2, and leaves no output behind. The expected messages are
// written from what the user did wrong, not copied from the output.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vpeft, type CliRun } from './spawn-cli';

const BENCH_SPEC = fileURLToPath(new URL('./fixtures/bench-tiny.yaml', import.meta.url));
/** A 4-head big_vision ViT checkpoint. */
const NPZ = fileURLToPath(new URL('../../convert/test/fixtures/big-vision.npz', import.meta.url));
const TINY = ['--backbone', 'vit_test_patch8_32'];
const DIGITS = ['--data', 'mnist:classes=0|1'];

let dir: string;
/** A regular file: an --out under it cannot be created. */
let file: string;
/** A saved two-class LoRA adapter for vit_test_patch8_32. */
let adapter: string;

/** A copy of the saved adapter with its adapter_config.json changed by `edit` (or replaced by a folder). */
async function damagedAdapter(name: string, edit: ((config: Record<string, unknown>) => void) | 'folder'): Promise<string> {
  const copy = join(dir, name);
  await cp(adapter, copy, { recursive: true });
  const configFile = join(copy, 'adapter_config.json');
  if (edit === 'folder') {
    await rm(configFile);
    await mkdir(configFile);
  } else {
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    edit(config);
    await writeFile(configFile, JSON.stringify(config));
  }
  return copy;
}

async function fileIn(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-bad-input-'));
  file = await fileIn('a-file', 'x\n');
  const { applyPeft, createViT, initBackend } = await import('@vpeft/core');
  await initBackend();
  const { lora } = await import('@vpeft/method-lora');
  // The CLI's vit_test_patch8_32 is createViT's seed-0 random init.
  const model = applyPeft(createViT('vit_test_patch8_32'), lora({ r: 2 }), { numClasses: 2, classNames: ['0', '1'] });
  adapter = join(dir, 'adapter');
  await model.saveAdapter(adapter);
  model.dispose({ backbone: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One bad input: the arguments (made once the fixtures exist) and the line it must print. */
interface Case {
  what: string;
  args: () => Promise<string[]> | string[];
  line: RegExp;
  /** Paths that must not exist afterwards (no partial output). */
  absent?: () => string[];
}

const cases: Case[] = [
  // --data
  { what: 'train: one class', args: () => ['train', ...TINY, '--data', 'mnist:classes=3'], line: /--data mnist:classes=3: .*at least two distinct class ids in 0\.\.9/ },
  { what: 'train: a class twice', args: () => ['train', ...TINY, '--data', 'mnist:classes=4|4'], line: /--data mnist:classes=4\|4: class 4 is given twice/ },
  // --method
  {
    what: 'train: one method twice without its own name',
    args: () => ['train', ...TINY, ...DIGITS, '--method', 'lora', '--method', 'lora:r=2'],
    line: /--method lora:r=2: .*"lora" is already given by --method lora; name this one with as=NAME/,
  },
  // --config
  { what: 'train: an empty config file', args: async () => ['train', ...TINY, ...DIGITS, '--config', await fileIn('empty.yaml', '')], line: /--config .*empty\.yaml: expected a mapping of option to value/ },
  { what: 'train: a boolean epoch count in the config', args: async () => ['train', ...TINY, ...DIGITS, '--config', await fileIn('epochs.json', '{"epochs": true}')], line: /--config .*epochs\.json: option "epochs" expects a string or a number, got true/ },
  { what: 'train: a number as the method list in the config', args: async () => ['train', ...TINY, ...DIGITS, '--config', await fileIn('methods.json', '{"method": {"r": 2}}')], line: /--config .*methods\.json: option "method" expects a method spec or a list of them/ },
  { what: 'train: a string for a flag in the config', args: async () => ['train', ...TINY, ...DIGITS, '--config', await fileIn('resume.yaml', 'resume: "yes"\n')], line: /--config .*resume\.yaml: option "resume" expects true or false/ },
  // --out, --resume, --workers: refused before anything trains
  { what: 'train: --out under a file', args: () => ['train', ...TINY, ...DIGITS, '--epochs', '1', '--out', join(file, 'run')], line: /--out .*a-file\/run: cannot be created: .*a-file is a file, not a folder/ },
  { what: 'train: a warm-up longer than the run', args: () => ['train', ...TINY, ...DIGITS, '--epochs', '2', '--warmup-epochs', '3'], line: /--warmup-epochs expects a number in \[0, 2\] \(at most --epochs\), got "3"/ },
  { what: 'train: --cache-dir under a file', args: () => ['train', ...TINY, ...DIGITS, '--cache-dir', join(file, 'cache')], line: /--cache-dir .*a-file\/cache: cannot be created: .*a-file is a file, not a folder/ },
  { what: 'train: --resume without --out', args: () => ['train', ...TINY, ...DIGITS, '--resume'], line: /--resume .*--out/ },
  { what: 'train: --workers 0', args: () => ['train', ...TINY, ...DIGITS, '--workers', '0'], line: /--workers expects a positive integer or auto, got "0"/ },
  { what: 'multi-task train: --out under a file', args: () => ['train', ...TINY, '--task', 'a=mnist:classes=0|1', '--task', 'b=mnist:classes=2|3', '--out', join(file, 'mt')], line: /--out .*a-file\/mt: cannot be created: .*a-file is a file, not a folder/ },
  { what: 'multi-task train: a task with an unknown data kind', args: () => ['train', ...TINY, '--task', 'a=mnist:classes=0|1', '--task', 'b=nosuch'], line: /--task b=nosuch: unknown dataset kind "nosuch"; expected mnist, emoji, / },
  { what: 'multi-task train: an unknown task method', args: () => ['train', ...TINY, '--task', 'a=mnist:classes=0|1', '--task', 'b=mnist:classes=2|3', '--task-method', 'b=nosuch'], line: /unknown method "nosuch" in --task-method b=nosuch; installed methods: .*lora/ },
  { what: 'demo: --out under a file', args: () => ['demo', '--epochs', '1', '--out', join(file, 'demo')], line: /--out .*a-file\/demo: cannot be created: .*a-file is a file, not a folder/ },
  // eval
  { what: 'eval: --seed not a number', args: () => ['eval', ...TINY, ...DIGITS, '--adapter', adapter, '--seed', 'x'], line: /--seed expects an integer, got "x"/ },
  { what: 'eval: --batch-size 0', args: () => ['eval', ...TINY, ...DIGITS, '--adapter', adapter, '--batch-size', '0'], line: /--batch-size expects a positive integer, got "0"/ },
  { what: 'eval: data with other classes than the adapter', args: () => ['eval', ...TINY, '--data', 'mnist', '--adapter', adapter], line: /--adapter .* classifies 2 classes.*--data mnist has 10/ },
  {
    what: 'eval: the adapter on another backbone',
    args: () => ['eval', '--backbone', 'swin_test_patch2_window2_32', ...DIGITS, '--adapter', adapter],
    line: /adapter_config\.json: the adapter was made for another backbone \(vit_test_patch8_32; given swin_test_patch2_window2_32\)/,
  },
  {
    what: 'eval: adapter_config.json is a folder',
    args: async () => ['eval', ...TINY, ...DIGITS, '--adapter', await damagedAdapter('config-folder', 'folder')],
    line: /config-folder\/adapter_config\.json: cannot be read \(EISDIR\)/,
  },
  {
    what: 'eval: adapter_config.json with methods not a list',
    args: async () => ['eval', ...TINY, ...DIGITS, '--adapter', await damagedAdapter('methods-string', (c) => (c.methods = 'lora'))],
    line: /methods-string\/adapter_config\.json: "methods" must be a list of method entries, got "lora"/,
  },
  {
    what: 'eval: adapter_config.json whose class names disagree with its class count',
    args: async () => ['eval', ...TINY, ...DIGITS, '--adapter', await damagedAdapter('class-count', (c) => (c.numClasses = 5))],
    line: /class-count\/adapter_config\.json: "classNames" must list 5 names/,
  },
  // inspect, merge, convert, cache
  { what: 'inspect: --adapter and --method together', args: () => ['inspect', ...TINY, '--adapter', adapter, '--method', 'lora'], line: /inspect takes --adapter DIR .* or --method, not both/ },
  {
    what: 'inspect: a multi-task adapter',
    args: async () => {
      await mkdir(join(dir, 'multi'));
      await writeFile(join(dir, 'multi', 'multitask_config.json'), '{}');
      return ['inspect', ...TINY, '--adapter', join(dir, 'multi')];
    },
    line: /--adapter .*multi is a multi-task adapter .*; vpeft inspect takes a single-task adapter\. Evaluate one of its tasks with vpeft eval .* --task NAME/,
  },
  { what: 'merge: --out is a folder', args: () => ['merge', ...TINY, '--adapter', adapter, '--out', dir], line: /--out .*: is a folder; give a file path/ },
  { what: 'merge: --out under a file', args: () => ['merge', ...TINY, '--adapter', adapter, '--out', join(file, 'm.safetensors')], line: /--out .*a-file\/m\.safetensors: cannot be created: .*a-file is a file, not a folder/ },
  { what: 'convert: a folder as the checkpoint', args: () => ['convert', '--from', 'npz', dir, '--out', join(dir, 'c.safetensors')], line: /convert: .*: is a folder; give the checkpoint file/, absent: () => [join(dir, 'c.safetensors')] },
  { what: 'convert: --heads other than the npz records', args: () => ['convert', '--from', 'npz', NPZ, '--heads', '8', '--out', join(dir, 'h.safetensors')], line: /convert --from npz: .*`numHeads` got 8; expected 4: the checkpoint's attention kernels record 4 heads/, absent: () => [join(dir, 'h.safetensors')] },
  { what: 'cache: --dir is a file', args: () => ['cache', '--dir', file], line: /--dir .*a-file: is a file, not a folder/ },
  // bench
  { what: 'bench: --out under a file', args: () => ['bench', '--spec', BENCH_SPEC, '--out', join(file, 'bench')], line: /--out .*a-file\/bench: cannot be created: .*a-file is a file, not a folder/ },
  {
    what: 'bench: an unknown backbone leaves no results file',
    args: async () => ['bench', '--spec', await fileIn('nosuch.yaml', (await readFile(BENCH_SPEC, 'utf8')).replace('vit_tiny_patch7_28_mnist04', 'nosuch_backbone')), '--out', join(dir, 'bench-nosuch')],
    line: /unknown backbone "nosuch_backbone"; known: .*vit_test_patch8_32/,
    absent: () => [join(dir, 'bench-nosuch')],
  },
  {
    what: 'bench: a damaged results file in --out',
    args: async () => {
      await mkdir(join(dir, 'bench-damaged'));
      await writeFile(join(dir, 'bench-damaged', 'results.jsonl'), 'garbage{\n');
      return ['bench', '--spec', BENCH_SPEC, '--out', join(dir, 'bench-damaged')];
    },
    line: /bench-damaged\/results\.jsonl:1: not a JSON line; the results file is damaged/,
  },
  { what: 'bench merge: --out folder missing', args: () => ['bench', 'merge', '--out', join(dir, 'no-such-folder')], line: /no-such-folder: no such folder; merge reads the results\.shard-<i>-of-<N>\.jsonl/ },
];

/** Runs `cases` two processes at a time (each spawn starts tsx and the backend: seconds). */
async function runAll(list: Case[]): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < list.length; i = next++) runs[i] = await vpeft(await list[i]!.args());
  };
  await Promise.all([lane(), lane()]);
  return runs;
}

describe('bad input through the binary: one line, exit 2, nothing left behind', () => {
  it(`${cases.length} cases`, async () => {
    const runs = await runAll(cases);
    const wrong: string[] = [];
    for (const [i, c] of cases.entries()) {
      const run = runs[i]!;
      const lines = run.stderrLines;
      if (run.code !== 2 || lines.length !== 1 || !/^vpeft: /.test(lines[0]!) || !c.line.test(lines[0]!)) wrong.push(`${c.what}: exit ${run.code}, stderr ${JSON.stringify(run.stderr)}`);
      for (const path of c.absent?.() ?? []) {
        const left = await readdir(path).then(
          (names) => names,
          (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : ['(a file)']),
        );
        if (left !== undefined) wrong.push(`${c.what}: left ${path} behind (${left.join(', ')})`);
      }
    }
    expect(wrong).toEqual([]);
  }, 600_000);
});
