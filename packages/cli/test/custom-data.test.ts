// A VTAB-1k-layout task of your own, and --skip-corrupt, through `vpeft train` / `vpeft eval`.
import { appendFile, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeVtabTask } from '../../datasets/test/fixtures';
import { runCli } from '../src/index';
import { captureOutput } from './capture-output';

const captured = captureOutput();

let root = '';
let cleanup = async () => {};
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('cli-custom'));
  // Labels cycle 0..2: the largest id is 2, so 3 classes.
  await writeVtabTask(root, 'shapes', 3, { train800: 6, val200: 3, test: 3 });
  await writeVtabTask(root, 'damaged', 3, { train800: 6, val200: 3, test: 3 });
  const task = join(root, 'damaged');
  const jpeg = await readFile(join(task, 'images/train800/000001.jpg'));
  await writeFile(join(task, 'images/train800/000001.jpg'), jpeg.subarray(0, jpeg.length >> 1)); // train800.txt:2 truncated
  await unlink(join(task, 'images/train800/000002.jpg')); // train800.txt:3 missing
  await appendFile(join(task, 'val200.txt'), 'images/val200/000000.jpg\n'); // val200.txt:4 no label
  await writeFile(join(task, 'images/test/000000.jpg'), 'not an image\n'); // test.txt:1 text named .jpg
});
afterAll(() => cleanup());

const train = (task: string, ...extra: string[]) => ['train', '--backbone', 'vit_test_patch8_32', '--data', `vtab1k:${root}:${task}`, '--epochs', '1', '--batch-size', '4', ...extra];

describe('vtab1k:<root>:<name> for a task of your own', () => {
  it('reads the list files, counts the classes from the labels and says so in one line', async () => {
    expect(await runCli(train('shapes'))).toBe(0);
    const notes = captured.stderr.split('\n').filter((line) => line.includes('not one of the 19'));
    expect(notes).toEqual([
      `note: vtab1k/shapes is not one of the 19 VTAB-1k tasks; read as your own task in the VTAB-1k layout (${join(root, 'shapes')}) with 3 classes, counted from the largest class id in train800.txt, val200.txt, test.txt, plus one`,
    ]);
    captured.stdout = '';
    expect(await runCli(train('shapes', '--json'))).toBe(0);
    const result = JSON.parse(captured.stdout) as { data: string; report: { trainableParams: number; test: { count: number } }; skipped?: unknown };
    expect(result.data).toBe('vtab1k/shapes');
    // A linear probe on the width-32 test ViT with 3 classes: 32·3 weights + 3 biases.
    expect(result.report.trainableParams).toBe(32 * 3 + 3);
    expect(result.report.test.count).toBe(3);
    expect(result.skipped).toBeUndefined();
  });
});

describe('--skip-corrupt', () => {
  it('train leaves out damaged entries and lists each once, in JSON and in the table', async () => {
    const dir = await tempDir('cli-skip-out');
    try {
      expect(await runCli([...train('damaged', '--skip-corrupt', '--out', dir.dir), '--json'])).toBe(0);
      const result = JSON.parse(captured.stdout) as { report: { test: { count: number } }; skipped: { count: number; entries: { where: string; error: string; message: string }[] } };
      const task = join(root, 'damaged');
      expect(result.skipped.entries.map((e) => [e.where, e.error]).sort()).toEqual(
        [
          [`${task}/test.txt:1`, 'ImageDecodeError'],
          [`${task}/train800.txt:2`, 'ImageDecodeError'],
          [`${task}/train800.txt:3`, 'MissingImageError'],
          [`${task}/val200.txt:4`, 'SplitFormatError'],
        ].sort(),
      );
      expect(result.skipped.count).toBe(4);
      expect(result.report.test.count).toBe(2);

      captured.stdout = '';
      expect(await runCli(train('damaged', '--skip-corrupt'))).toBe(0);
      expect(captured.stdout).toMatch(/^--skip-corrupt: 4 skipped$/m);
      expect(captured.stdout).toMatch(/^ {2}MissingImageError: .*damaged\/train800\.txt:3: image file not found: /m);

      captured.stdout = '';
      const evalArgs = ['eval', '--backbone', 'vit_test_patch8_32', '--adapter', join(dir.dir, 'adapter'), '--data', `vtab1k:${root}:damaged`, '--json'];
      expect(await runCli([...evalArgs, '--skip-corrupt'])).toBe(0);
      const evaluation = JSON.parse(captured.stdout) as { count: number; skipped: { count: number; entries: { where: string }[] } };
      expect(evaluation.count).toBe(2);
      expect(evaluation.skipped.entries.map((e) => e.where)).toEqual([`${task}/test.txt:1`]);
      // Without the flag the same data stops at the first damaged entry (counting the classes reads every list file first).
      expect(await runCli(evalArgs)).toBe(2);
      expect(captured.stderr).toMatch(/^vpeft: .*damaged\/val200\.txt:4: expected "<image path> <class id>"/m);
    } finally {
      await dir.cleanup();
    }
  });
});
