// `vpeft train --task ...` and `vpeft eval --task` through the binary (tiny ViT, MNIST 0|1 and 2|3 as two tasks).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index';
import { captureOutput } from './capture-output';
import { vpeft } from './spawn-cli';

const captured = captureOutput();

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-cli-multitask-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TaskRow {
  task: string;
  testTop1: number;
  testCount: number;
  singleTop1: number;
  relativeChange: number;
}

describe('vpeft train --task (multi-task)', () => {
  it('trains from a YAML config, prints Δm against --baselines, and eval --task scores one task from its own files', async () => {
    const config = join(dir, 'multitask.yaml');
    await writeFile(
      config,
      [
        'backbone: vit_test_patch8_32',
        'task:',
        '  zero_one: "mnist:classes=0|1"',
        '  two_three: "mnist:classes=2|3"',
        'method: ["lora:r=2"]',
        'task-method: ["two_three=adapter:bottleneck=4"]',
        'loss-weight: ["zero_one=2"]',
        'sampling: temperature',
        'temperature: 2',
        'epochs: 1',
        'batch-size: 100',
      ].join('\n'),
    );
    const baselines = join(dir, 'baselines.json');
    await writeFile(baselines, JSON.stringify({ zero_one: 0.5, two_three: { testTop1: 0.8 } }));
    const out = join(dir, 'run');
    const run = await vpeft(['train', '--config', config, '--baselines', baselines, '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { tasks: TaskRow[]; deltaM: number; summary: { shared: number; trainableTotal: number } };
    const [a, b] = result.tasks;
    expect(result.tasks.map((t) => t.task)).toEqual(['zero_one', 'two_three']);
    expect(a!.singleTop1).toBe(0.5);
    expect(b!.singleTop1).toBe(0.8);
    expect(result.deltaM).toBeCloseTo((100 * ((a!.testTop1 - 0.5) / 0.5 + (b!.testTop1 - 0.8) / 0.8)) / 2, 10);
    // Shared LoRA r=2 on q and v of 2 blocks of width 32: 2 · 2 · 2 · (32 + 32), counted once.
    expect(result.summary.shared).toBe(2 * 2 * 2 * (32 + 32));
    expect((await readdir(join(out, 'adapter'))).sort()).toEqual(['multitask_config.json', 'shared.safetensors', 'task-two_three.safetensors', 'task-zero_one.safetensors']);

    await rm(join(out, 'adapter', 'task-zero_one.safetensors'));
    const evaluation = await vpeft(['eval', '--backbone', 'vit_test_patch8_32', '--adapter', join(out, 'adapter'), '--task', 'two_three', '--json']);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const scored = JSON.parse(evaluation.stdout) as { top1: number; count: number };
    expect(scored.count).toBe(b!.testCount);
    expect(scored.top1).toBeCloseTo(b!.testTop1, 6);
  });

  it('rejects bad multi-task input with one line and exit 2 (in process)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--task', 'a=mnist', '--task', 'a=emoji'], /the task name "a" is given twice/],
      [['--task', 'a=mnist', '--task-method', 'b=adapter'], /--task-method b=adapter: no task "b"; tasks: a/],
      [['--task', 'a=mnist', '--sampling', 'random'], /--sampling expects proportional, uniform, temperature/],
      [['--task', 'a=mnist', '--baselines', join(dir, 'baselines.json')], /no result for task "a"/],
      [['--data', 'mnist', '--loss-weight', 'a=2'], /--loss-weight applies to multi-task training/],
    ];
    for (const [args, message] of cases) {
      captured.stderr = '';
      expect(await runCli(['train', '--backbone', 'vit_test_patch8_32', ...args]), args.join(' ')).toBe(2);
      expect(captured.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(captured.stderr).toMatch(message);
    }
  });
});
