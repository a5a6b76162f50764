import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelOutOfRangeError, MissingDatasetError, SplitFormatError, UnknownTaskError, customVtabTask, findVtabTask, vtab1kCustom } from '../src/index.js';
import { tempDir, writeVtabTask } from './fixtures.js';

let root = '';
let cleanup = async () => {};

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('vtab-custom'));
  // Labels cycle 0..2 over 5 train images, 0..1 over 2 val and 0..2 over 3 test: ids 0, 1, 2 → 3 classes.
  await writeVtabTask(root, 'shapes', 3, { train800: 5, val200: 2, test: 3 });
  await writeVtabTask(root, 'named', 2, { train800: 4, val200: 2, test: 2 });
  await writeFile(join(root, 'named', 'classes.txt'), 'circle\nsquare\n\ntriangle\n');
  await writeVtabTask(root, 'broken', 2, { train800: 2 });
  await appendFile(join(root, 'broken', 'train800.txt'), 'images/train800/000000.jpg\n');
  await mkdir(join(root, 'empty'));
});
afterAll(() => cleanup());

describe('a VTAB-1k-layout task of your own', () => {
  it('is not one of the 19', () => {
    expect(findVtabTask('shapes')).toBeUndefined();
    expect(findVtabTask('Oxford-Pet')?.name).toBe('oxford_iiit_pet');
  });

  it('takes the class count from the largest label in the list files', async () => {
    const task = await customVtabTask(root, 'shapes');
    expect(task).toMatchObject({ name: 'vtab1k/shapes', numClasses: 3, classesFrom: 'labels', classNames: ['0', '1', '2'] });
    expect(task.sources.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['train800.txt', 'val200.txt', 'test.txt']);
    const train = await vtab1kCustom(task, 'train800');
    expect(train.samples.map((s) => s.label)).toEqual([0, 1, 2, 0, 1]);
    expect(train).toMatchObject({ name: 'vtab1k/shapes', split: 'train800', numClasses: 3, pipeline: 'vtab' });
    expect((await vtab1kCustom(task, 'test')).samples).toHaveLength(3);
  });

  it('takes the class count and names from classes.txt when there is one', async () => {
    const task = await customVtabTask(root, 'named');
    expect(task).toMatchObject({ numClasses: 3, classesFrom: 'classes.txt', classNames: ['circle', 'square', 'triangle'] });
    expect((await vtab1kCustom(task, 'val200')).classNames).toEqual(['circle', 'square', 'triangle']);
  });

  it('checks labels against classes.txt, naming file and line', async () => {
    const dir = join(root, 'named2');
    await writeVtabTask(root, 'named2', 3, { train800: 3 });
    await writeFile(join(dir, 'classes.txt'), 'a\nb\n');
    const task = await customVtabTask(root, 'named2');
    await expect(vtab1kCustom(task, 'train800')).rejects.toThrowError(LabelOutOfRangeError);
    await expect(vtab1kCustom(task, 'train800')).rejects.toThrowError(/named2\/train800\.txt:3: class id 2 is out of range for vtab1k\/named2; expected an integer in 0\.\.1/);
  });

  it('reports a malformed line with file:line, or skips it with skipCorrupt', async () => {
    await expect(customVtabTask(root, 'broken')).rejects.toThrowError(SplitFormatError);
    await expect(customVtabTask(root, 'broken')).rejects.toThrowError(/broken\/train800\.txt:3: expected "<image path> <class id>"/);
    const task = await customVtabTask(root, 'broken', { skipCorrupt: true });
    expect(task.numClasses).toBe(2);
    const train = await vtab1kCustom(task, 'train800', { skipCorrupt: true });
    expect(train.samples).toHaveLength(2);
    expect(train.skipped.map((s) => s.origin.line)).toEqual([3]);
  });

  it('a missing folder is an unknown task (the 19 are listed); an empty one lacks its list files', async () => {
    await expect(customVtabTask(root, 'eurosatt')).rejects.toThrowError(UnknownTaskError);
    await expect(customVtabTask(root, 'eurosatt')).rejects.toThrowError(/unknown VTAB-1k task "eurosatt" \(and no folder .*eurosatt for a task of your own in the VTAB-1k layout\); known: cifar, /);
    await expect(customVtabTask(root, 'empty')).rejects.toThrowError(MissingDatasetError);
    await expect(customVtabTask(root, 'empty')).rejects.toThrowError(/vtab1k\/empty: not found; looked for .*empty\/train800\.txt/);
  });
});
