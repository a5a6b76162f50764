// The five damaged-data cases of a VTAB-1k-layout task (and an unknown task name), run through the
// `vpeft` binary: each must end as exit code 2 and ONE line on stderr naming the file and line.
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeVtabTask } from '../../datasets/test/fixtures';
import { vpeft, type CliRun } from './spawn-cli';

const dirs: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of dirs) await cleanup();
});

/** A fresh `<root>/eurosat` task (10 classes): 4 train, 2 val, 2 test images; `damage` edits it. */
async function damagedTask(damage: (taskDir: string) => Promise<void>): Promise<string> {
  const { dir, cleanup } = await tempDir('cli-damaged');
  dirs.push(cleanup);
  await writeVtabTask(dir, 'eurosat', 10, { train800: 4, val200: 2, test: 2 });
  await damage(join(dir, 'eurosat'));
  return dir;
}

/** Rewrites line `line` (1-based) of a split file. */
async function editLine(file: string, line: number, edit: (text: string) => string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines[line - 1] = edit(lines[line - 1]!);
  await writeFile(file, lines.join('\n'));
}

/** `vpeft train` on the tiny pre-trained ViT; `--json` keeps notes off stderr, one batch holds every image. */
function train(root: string, task = 'eurosat', extra: string[] = []): Promise<CliRun> {
  return vpeft(['train', '--backbone', 'vit_tiny_patch7_28_mnist04', '--data', `vtab1k:${root}:${task}`, '--epochs', '1', '--batch-size', '8', '--json', ...extra]);
}

function expectOneLine(run: CliRun, pattern: RegExp): void {
  expect(run.stderrLines, run.stderr).toHaveLength(1);
  expect(run.stderrLines[0]).toMatch(/^vpeft: /);
  expect(run.stderrLines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.code, run.stderr).toBe(2);
}

/** The runs, started together (each is a separate process) and checked one per test. */
const runs: Record<string, Promise<CliRun>> = {};
beforeAll(async () => {
  const cases: Record<string, [damage: (taskDir: string) => Promise<void>, task?: string, extra?: string[]]> = {
    truncated: [
      async (task) => {
        const file = join(task, 'images/train800/000001.jpg');
        const jpeg = await readFile(file);
        await writeFile(file, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
      },
    ],
    missing: [(task) => unlink(join(task, 'images/train800/000002.jpg'))],
    outOfRange: [(task) => editLine(join(task, 'train800.txt'), 4, (line) => line.replace(/\d+$/, '10'))],
    noLabel: [(task) => editLine(join(task, 'val200.txt'), 2, (line) => line.replace(/ \d+$/, ''))],
    textAsJpeg: [(task) => writeFile(join(task, 'images/train800/000003.jpg'), 'this is not an image\n')],
    unknownTask: [async () => {}, 'eurosatt'],
    debug: [(task) => rm(join(task, 'images/train800/000000.jpg')), 'eurosat', ['--debug']],
  };
  for (const [name, [damage, task, extra]] of Object.entries(cases)) runs[name] = damagedTask(damage).then((root) => train(root, task, extra));
  // Settle every run before the tests read them, so a failing one does not leave others running.
  await Promise.allSettled(Object.values(runs));
});

describe('vpeft train on damaged VTAB-1k data: exit 2, one line with file:line, no stack', () => {
  it('a truncated JPEG', async () => {
    expectOneLine(await runs.truncated!, /eurosat\/train800\.txt:2: cannot decode image .*000001\.jpg: .*(premature end|truncated)/i);
  });

  it('a listed image file that is missing', async () => {
    expectOneLine(await runs.missing!, /eurosat\/train800\.txt:3: image file not found: .*000002\.jpg$/);
  });

  it('a class id out of range', async () => {
    expectOneLine(await runs.outOfRange!, /eurosat\/train800\.txt:4: class id 10 is out of range for vtab1k\/eurosat; expected an integer in 0\.\.9$/);
  });

  it('a line without a label', async () => {
    expectOneLine(await runs.noLabel!, /eurosat\/val200\.txt:2: expected "<image path> <class id>", got "images\/val200\/000001\.jpg"$/);
  });

  it('a text file named .jpg', async () => {
    expectOneLine(await runs.textAsJpeg!, /eurosat\/train800\.txt:4: cannot decode image .*000003\.jpg: /);
  });

  it('a VTAB task name with no such folder', async () => {
    expectOneLine(await runs.unknownTask!, /eurosatt.*known: .*eurosat/);
  });

  it('--debug adds the stack trace after the same line', async () => {
    const run = await runs.debug!;
    expect(run.code).toBe(2);
    expect(run.stderrLines[0]).toMatch(/^vpeft: .*train800\.txt:1: image file not found/);
    expect(run.stderr).toMatch(/MissingImageError: .*\n\s+at /);
  });
});
