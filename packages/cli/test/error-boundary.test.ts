import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileFormatError, OptionError, VpeftError } from '@vpeft/core';
import { ClassCountError, ImageDecodeError, LabelOutOfRangeError } from '@vpeft/datasets';
import { TaskError } from '@vpeft/multitask';
import { CheckpointError, NonFiniteLossError } from '@vpeft/train';
import { errorLine, exitCodeFor, registerInputError } from '../src/error-boundary';
import { UsageError } from '../src/errors';
import { runNode, vpeft } from './spawn-cli';

describe('exit codes: 2 for bad input, 1 for a failure while running', () => {
  it('maps the vpeft error classes', () => {
    const origin = { file: '/d/train800.txt', line: 4 };
    expect(exitCodeFor(new UsageError('--epochs expects a positive integer'))).toBe(2);
    expect(exitCodeFor(new LabelOutOfRangeError(origin, 12, 10, 'vtab1k/eurosat'))).toBe(2);
    expect(exitCodeFor(new ImageDecodeError('/d/a.jpg', origin, 'premature end'))).toBe(2);
    expect(exitCodeFor(new ClassCountError('vtab1k/x', 10, 9, 'the class list'))).toBe(2);
    expect(exitCodeFor(new OptionError('r', -1, 'a positive integer', 'lora'))).toBe(2);
    expect(exitCodeFor(new FileFormatError('/d/adapter.safetensors', 'header too short'))).toBe(2);
    expect(exitCodeFor(new CheckpointError('checkpoint written with other settings'))).toBe(2);
    expect(exitCodeFor(new TaskError('multitask: duplicate task name "a"'))).toBe(2);
    expect(exitCodeFor(new NonFiniteLossError(3, Number.NaN, 0))).toBe(1);
    expect(exitCodeFor(new VpeftError('data-parallel worker exited (code 1)'))).toBe(1);
    expect(exitCodeFor(new TypeError('x is undefined'))).toBe(1);
    expect(exitCodeFor('a string thrown by wasm')).toBe(1);
  });

  it('a missing path given by the user (Node ENOENT) is bad input; a wrapped input error too', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/adapter_config.json'"), { code: 'ENOENT', path: '/x/adapter_config.json' });
    expect(exitCodeFor(enoent)).toBe(2);
    expect(exitCodeFor(new VpeftError('loading the adapter failed', { cause: enoent }))).toBe(2);
  });

  it('registerInputError makes a new class (and its subclasses) exit 2', () => {
    class GridSpecError extends VpeftError {}
    class GridAxisError extends GridSpecError {}
    expect(exitCodeFor(new GridAxisError('axis "lr" is empty'))).toBe(1);
    registerInputError(GridSpecError);
    expect(exitCodeFor(new GridAxisError('axis "lr" is empty'))).toBe(2);
  });

  it('prints one line: input errors as their message, failures with their class, others as internal errors', () => {
    expect(errorLine(new UsageError('vpeft train needs --data'))).toBe('vpeft: vpeft train needs --data (see vpeft --help)');
    expect(errorLine(new LabelOutOfRangeError({ file: '/d/t.txt', line: 2 }, 5, 2, 'vtab1k/patch_camelyon'))).toBe(
      'vpeft: /d/t.txt:2: class id 5 is out of range for vtab1k/patch_camelyon; expected an integer in 0..1',
    );
    expect(errorLine(new NonFiniteLossError(1, Number.POSITIVE_INFINITY, 0))).toMatch(/^vpeft: NonFiniteLossError: training loss is Infinity at step 1/);
    expect(errorLine(new Error('first line\n  second line'))).toBe('vpeft: internal error: Error: first line second line (rerun with --debug for the stack trace)');
  });
});

describe('errors that escape every await (the wasm backend installs rethrowing process listeners)', () => {
  const script = fileURLToPath(new URL('./fixtures/escaping-error.ts', import.meta.url));

  it('without the boundary an unawaited rejection ends as a stack and exit 7; with it, one line and exit 2', async () => {
    const [without, within] = await Promise.all([runNode(script, ['rejection', 'none']), runNode(script, ['rejection', 'boundary'])]);
    expect(without.code).toBe(7);
    expect(within.stderrLines).toEqual(['vpeft: /data/task/train800.txt:3: image file not found: /data/task/images/3.jpg']);
    expect(within.code).toBe(2);
  });

  it('an exception thrown in a callback ends as one internal-error line and exit 1', async () => {
    const run = await runNode(script, ['exception', 'boundary']);
    expect(run.stderrLines).toEqual(['vpeft: internal error: TypeError: boom (rerun with --debug for the stack trace)']);
    expect(run.code).toBe(1);
  });
});

describe('a failure while training exits 1 with one line', () => {
  it('a diverging run (learning rate 1e30) stops with NonFiniteLossError', async () => {
    const run = await vpeft(['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--epochs', '1', '--batch-size', '100', '--lr', '1e30', '--warmup-epochs', '0', '--json']);
    const errors = run.stderrLines.filter((line) => !line.startsWith('{'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^vpeft: NonFiniteLossError: training loss is (NaN|-?Infinity) at step \d+/);
    expect(run.code).toBe(1);
  });
});

describe('a damaged adapter given to the binary exits 2 with one line', () => {
  it('vpeft eval --adapter DIR whose adapter_config.json is truncated says it is damaged', async () => {
    const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { applyPeft, createViT, initBackend } = await import('@vpeft/core');
    await initBackend();
    const { lora } = await import('@vpeft/method-lora');
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-damaged-adapter-'));
    try {
      // The CLI's vit_test_patch8_32 is createViT's seed-0 random init.
      const model = applyPeft(createViT('vit_test_patch8_32'), lora({ r: 2 }), { numClasses: 2 });
      await model.saveAdapter(dir);
      model.dispose({ backbone: true });
      const config = join(dir, 'adapter_config.json');
      const text = await readFile(config, 'utf8');
      await writeFile(config, text.slice(0, text.indexOf('"vpeft-adapter"')));
      const run = await vpeft(['eval', '--backbone', 'vit_test_patch8_32', '--adapter', dir, '--data', 'mnist:classes=0|1']);
      expect(run.stderrLines).toHaveLength(1);
      expect(run.stderrLines[0]).toMatch(/^vpeft: .*adapter_config\.json: is damaged: not valid JSON \(.*\); save the adapter again$/);
      expect(run.code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
