import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClassCountError,
  LabelOutOfRangeError,
  MissingDatasetError,
  MissingImageError,
  SplitFormatError,
  UnknownSplitError,
  UnknownTaskError,
  VTAB1K_TASKS,
  batches,
  vtab1k,
  vtabTask,
  vtabTransform,
} from '../src/index.js';
import { classColour, tempDir, writeVtabTask } from './fixtures.js';

let root = '';
let cleanup = async () => {};

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('vtab'));
  // kitti (4 classes) in its own folder; oxford_iiit_pet stored under its alias folder.
  await writeVtabTask(root, 'kitti', 4, { train800: 8, val200: 4, train800val200: 12, test: 6 });
  await writeVtabTask(root, 'oxford_pet', 37, { train800: 3 });
});
afterAll(() => cleanup());

describe('VTAB-1k tasks', () => {
  it('lists the 19 tasks with their published class counts and groups', () => {
    expect(VTAB1K_TASKS).toHaveLength(19);
    const counts = Object.fromEntries(VTAB1K_TASKS.map((t) => [t.name, t.numClasses]));
    expect(counts).toEqual({
      cifar: 100, caltech101: 102, dtd: 47, oxford_flowers102: 102, oxford_iiit_pet: 37, svhn: 10, sun397: 397,
      patch_camelyon: 2, eurosat: 10, resisc45: 45, diabetic_retinopathy: 5,
      clevr_count: 8, clevr_dist: 6, dmlab: 6, kitti: 4, dsprites_loc: 16, dsprites_ori: 16, smallnorb_azi: 18, smallnorb_ele: 9,
    });
    expect(VTAB1K_TASKS.filter((t) => t.group === 'natural')).toHaveLength(7);
    expect(VTAB1K_TASKS.filter((t) => t.group === 'specialized')).toHaveLength(4);
    expect(VTAB1K_TASKS.filter((t) => t.group === 'structured')).toHaveLength(8);
  });

  it('resolves aliases', () => {
    expect(vtabTask('cifar100').name).toBe('cifar');
    expect(vtabTask('oxford_pet').name).toBe('oxford_iiit_pet');
    expect(vtabTask('Clevr-Count').name).toBe('clevr_count');
  });

  it('rejects an unknown task and lists the known ones', () => {
    expect(() => vtabTask('imagenet')).toThrowError(UnknownTaskError);
    expect(() => vtabTask('imagenet')).toThrowError(/unknown VTAB-1k task "imagenet"; known: cifar, cifar100 \(= cifar\), caltech101/);
  });
});

describe('vtab1k loader', () => {
  it('loads every split with paths, labels, class count and names', async () => {
    for (const [split, n] of [['train800', 8], ['val200', 4], ['train800val200', 12], ['test', 6]] as const) {
      const ds = await vtab1k(root, 'kitti', split);
      expect(ds.samples).toHaveLength(n);
      expect(ds.numClasses).toBe(4);
      expect(ds.classNames).toEqual(['0', '1', '2', '3']);
      expect(ds.pipeline).toBe('vtab');
      expect(ds.samples[1]).toMatchObject({ source: join(root, 'kitti', 'images', split, '000001.jpg'), label: 1 });
      expect(ds.samples[1].origin).toEqual({ file: join(root, 'kitti', `${split}.txt`), line: 2 });
    }
  });

  it('finds a task under its folder alias (oxford_iiit_pet in oxford_pet/)', async () => {
    const ds = await vtab1k(root, 'oxford_iiit_pet', 'train800');
    expect(ds.name).toBe('vtab1k/oxford_iiit_pet');
    expect(ds.numClasses).toBe(37);
    expect(ds.samples).toHaveLength(3);
  });

  it('checks against the published class count when strict', async () => {
    await expect(vtab1k(root, 'kitti', 'train800', { strictClassCount: true })).resolves.toBeDefined();
    await expect(vtab1k(root, 'oxford_pet', 'train800', { strictClassCount: true })).rejects.toThrowError(ClassCountError);
    await expect(vtab1k(root, 'oxford_pet', 'train800', { strictClassCount: true })).rejects.toThrowError(/found 3 classes in split train800; the published class count is 37/);
  });

  it('batches decoded JPEGs whose pixels follow the VTAB formula', async () => {
    const ds = await vtab1k(root, 'kitti', 'train800val200');
    const it = batches(ds, { batchSize: 5, transform: vtabTransform({ size: 16 }) });
    const shapes: number[][] = [];
    for await (const { x, y } of it) {
      shapes.push(x.shape);
      expect(x.dtype).toBe('float32');
      expect(y.dtype).toBe('int32');
      const pixels = await x.data();
      const labels = await y.data();
      for (let b = 0; b < labels.length; b++) {
        const rgb = classColour(labels[b]);
        const mean = [0.485, 0.456, 0.406];
        const std = [0.229, 0.224, 0.225];
        for (let c = 0; c < 3; c++) {
          const expected = (rgb[c] / 255 - mean[c]) / std[c];
          // JPEG is lossy: allow 4 grey levels.
          expect(Math.abs(pixels[b * 16 * 16 * 3 + (8 * 16 + 8) * 3 + c] - expected)).toBeLessThan(4 / 255 / std[c]);
        }
      }
      x.dispose();
      y.dispose();
    }
    expect(shapes).toEqual([[5, 16, 16, 3], [5, 16, 16, 3], [2, 16, 16, 3]]);
    expect(it.stats).toMatchObject({ batches: 3, images: 12, skipped: 0 });
  });
});

describe('vtab1k bad input', () => {
  let bad = '';
  beforeAll(async () => {
    bad = join(root, 'bad');
    await writeVtabTask(bad, 'svhn', 10, { train800: 4 });
    await mkdir(join(bad, 'eurosat'), { recursive: true });
  });

  const lines = async (content: string) => {
    await writeFile(join(bad, 'eurosat', 'val200.txt'), content);
    return join(bad, 'eurosat', 'val200.txt');
  };

  it('names file and line of a malformed line', async () => {
    const file = await lines('images/train800/000000.jpg 1\nno-label-here\n');
    const error = await vtab1k(bad, 'eurosat', 'val200', { checkFiles: false }).catch((e) => e);
    expect(error).toBeInstanceOf(SplitFormatError);
    expect(error.name).toBe('SplitFormatError');
    expect(error.message).toContain(`${file}:2`);
    expect(error.message).toContain('expected "<image path> <class id>"');
  });

  it('names file and line of a non-integer class id', async () => {
    const file = await lines('a.jpg 1\nb.jpg one\n');
    await expect(vtab1k(bad, 'eurosat', 'val200', { checkFiles: false })).rejects.toThrowError(`${file}:2: class id "one" is not an integer`);
  });

  it('names file and line of a class id out of range', async () => {
    const file = await lines('a.jpg 1\n\nb.jpg 10\n');
    const error = await vtab1k(bad, 'eurosat', 'val200', { checkFiles: false }).catch((e) => e);
    expect(error).toBeInstanceOf(LabelOutOfRangeError);
    expect(error.message).toBe(`${file}:3: class id 10 is out of range for vtab1k/eurosat; expected an integer in 0..9`);
    await lines('a.jpg -1\n');
    await expect(vtab1k(bad, 'eurosat', 'val200', { checkFiles: false })).rejects.toThrowError(LabelOutOfRangeError);
  });

  it('names file and line of a missing image', async () => {
    await appendFile(join(bad, 'svhn', 'train800.txt'), 'images/train800/gone.jpg 3\n');
    const error = await vtab1k(bad, 'svhn', 'train800').catch((e) => e);
    expect(error).toBeInstanceOf(MissingImageError);
    expect(error.message).toBe(`${join(bad, 'svhn', 'train800.txt')}:5: image file not found: ${join(bad, 'svhn', 'images', 'train800', 'gone.jpg')}`);
  });

  it('skipCorrupt skips bad lines and reports them', async () => {
    await lines('a.jpg 1\nbroken\nb.jpg 99\nc.jpg 2\n');
    const ds = await vtab1k(bad, 'eurosat', 'val200', { skipCorrupt: true, checkFiles: false });
    expect(ds.samples.map((s) => s.label)).toEqual([1, 2]);
    expect(ds.skipped.map((s) => [s.origin.line, s.error.name])).toEqual([[2, 'SplitFormatError'], [3, 'LabelOutOfRangeError']]);
    const svhn = await vtab1k(bad, 'svhn', 'train800', { skipCorrupt: true });
    expect(svhn.samples).toHaveLength(4);
    expect(svhn.skipped[0].error).toBeInstanceOf(MissingImageError);
  });

  it('reports a missing task folder, split file or unknown split', async () => {
    const error = await vtab1k(bad, 'cifar', 'test').catch((e) => e);
    expect(error).toBeInstanceOf(MissingDatasetError);
    expect(error.message).toContain(join(bad, 'cifar', 'test.txt'));
    expect(error.message).toContain(join(bad, 'cifar100', 'test.txt'));
    await expect(vtab1k(bad, 'svhn', 'test')).rejects.toThrowError(MissingDatasetError);
    await expect(vtab1k(bad, 'svhn', 'train')).rejects.toThrowError(UnknownSplitError);
    await expect(vtab1k(bad, 'svhn', 'train')).rejects.toThrowError(/known: train800, val200, train800val200, test/);
    await expect(vtab1k(bad, 'imagenet', 'test')).rejects.toThrowError(UnknownTaskError);
  });
});
