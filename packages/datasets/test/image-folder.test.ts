import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassCountError, MissingDatasetError, imageFolder } from '../src/index.js';
import { tempDir, writeSolidImage } from './fixtures.js';

let root = '';
let cleanup = async () => {};

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('folder'));
  await writeSolidImage(join(root, 'zebra', 'b.jpg'), [1, 2, 3]);
  await writeSolidImage(join(root, 'zebra', 'a.png'), [1, 2, 3]);
  await writeSolidImage(join(root, 'ant', 'nested', 'x.webp'), [1, 2, 3]);
  await writeSolidImage(join(root, 'Bee', 'y.JPG'), [1, 2, 3]);
  await writeFile(join(root, 'Bee', 'notes.txt'), 'not an image');
  await mkdir(join(root, '.hidden'), { recursive: true });
});
afterAll(() => cleanup());

describe('imageFolder', () => {
  it('makes one class per sub-folder in sorted order, images found recursively', async () => {
    const ds = await imageFolder(root);
    expect(ds.classNames).toEqual(['Bee', 'ant', 'zebra']);
    expect(ds.numClasses).toBe(3);
    expect(ds.samples.map((s) => [String(s.source).slice(root.length + 1), s.label])).toEqual([
      ['Bee/y.JPG', 0],
      ['ant/nested/x.webp', 1],
      ['zebra/a.png', 2],
      ['zebra/b.jpg', 2],
    ]);
  });

  it('checks an expected class count and a missing root', async () => {
    await expect(imageFolder(root, { expectedClasses: 3 })).resolves.toBeDefined();
    await expect(imageFolder(root, { expectedClasses: 4 })).rejects.toThrowError(ClassCountError);
    await expect(imageFolder(join(root, 'nope'))).rejects.toThrowError(MissingDatasetError);
  });
});
