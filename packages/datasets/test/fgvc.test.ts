import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClassCountError,
  FGVC_DATASETS,
  MissingDatasetError,
  MissingImageError,
  SplitFormatError,
  UnknownTaskError,
  batches,
  fgvc,
  fgvcDataset,
  fgvcTransform,
} from '../src/index.js';
import { tempDir, writeFgvcDataset } from './fixtures.js';

let root = '';
let cleanup = async () => {};

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('fgvc'));
  // CUB-like ids 1..200 style (here 3 classes with ids 7, 12, 100: numeric order differs from string order).
  await writeFgvcDataset(join(root, 'CUB_200_2011'), 'images', [100, 7, 12], { train: 2, val: 1, test: 1 });
  await writeFgvcDataset(join(root, 'Stanford-dogs'), 'Images', [3, 1], { train: 1, val: 1, test: 1 });
  await writeFgvcDataset(join(root, 'cars'), '', [5, 9], { train: 1, val: 1, test: 1 });
});
afterAll(() => cleanup());

describe('FGVC datasets', () => {
  it('lists the five with published class counts and image roots', () => {
    expect(FGVC_DATASETS.map((d) => [d.name, d.numClasses, d.imageRoot])).toEqual([
      ['cub', 200, 'images'],
      ['nabirds', 555, 'images'],
      ['oxford_flowers', 102, ''],
      ['stanford_dogs', 120, 'Images'],
      ['stanford_cars', 196, ''],
    ]);
    expect(fgvcDataset('CUB_200_2011').name).toBe('cub');
    expect(fgvcDataset('StanfordCars').name).toBe('stanford_cars');
    expect(() => fgvcDataset('aircraft')).toThrowError(UnknownTaskError);
    expect(() => fgvcDataset('aircraft')).toThrowError(/unknown FGVC dataset "aircraft"; known: cub, cub_200_2011/);
  });

  it('remaps ids to 0..K-1 in ascending numeric order, shared by all splits', async () => {
    const train = await fgvc(join(root, 'CUB_200_2011'), 'cub', 'train');
    expect(train.numClasses).toBe(200);
    expect(train.pipeline).toBe('fgvc');
    expect(train.classNames.slice(0, 3)).toEqual(['007.class_7', '012.class_12', '100.class_100']);
    const byFolder = Object.fromEntries(train.samples.map((s) => [String(s.source).split('/').at(-2), s.label]));
    expect(byFolder).toEqual({ '007.class_7': 0, '012.class_12': 1, '100.class_100': 2 });
    expect(train.samples[0].source).toBe(join(root, 'CUB_200_2011', 'images', '100.class_100', 'train_0.jpg'));
    expect(train.samples).toHaveLength(6);
    const test = await fgvc(join(root, 'CUB_200_2011'), 'cub', 'test');
    expect(test.samples.map((s) => s.label).sort()).toEqual([0, 1, 2]);
    const trainval = await fgvc(join(root, 'CUB_200_2011'), 'cub', 'trainval');
    expect(trainval.samples).toHaveLength(9);
  });

  it('uses each dataset image root (Images/ for dogs, the root for cars)', async () => {
    const dogs = await fgvc(join(root, 'Stanford-dogs'), 'stanford_dogs', 'val');
    expect(dogs.samples.map((s) => s.source)).toContain(join(root, 'Stanford-dogs', 'Images', '001.class_1', 'val_0.jpg'));
    const cars = await fgvc(join(root, 'cars'), 'stanford_cars', 'train');
    expect(cars.samples.map((s) => s.source)).toContain(join(root, 'cars', '005.class_5', 'train_0.jpg'));
  });

  it('checks the published class count', async () => {
    await expect(fgvc(join(root, 'cars'), 'cars', 'train', { strictClassCount: true })).rejects.toThrowError(ClassCountError);
    const tooMany = join(root, 'flowers');
    await writeFgvcDataset(tooMany, '', [1, 2, 3], { train: 1 });
    // Oxford Flowers has 102 classes; val.json brings 103 distinct ids.
    const json: Record<string, number> = {};
    for (let id = 0; id < 103; id++) json[`001.class_1/train_0.jpg#${id}`] = id;
    await writeFile(join(tooMany, 'val.json'), JSON.stringify(json));
    const error = await fgvc(tooMany, 'oxford_flowers', 'train').catch((e) => e);
    expect(error).toBeInstanceOf(ClassCountError);
    expect(error.message).toMatch(/found 103 classes in train.json, val.json \(ids 0..102; id 102 at .*val.json \["001.class_1\/train_0.jpg#102"\] is beyond the published count\); the published class count is 102/);
  });

  it('reports bad JSON, bad ids and missing images with file and key', async () => {
    const dir = join(root, 'broken');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'train.json'), '{"a.jpg": 1,');
    const bad = await fgvc(dir, 'cars', 'train').catch((e) => e);
    expect(bad).toBeInstanceOf(SplitFormatError);
    expect(bad.message).toContain(`${join(dir, 'train.json')}: invalid JSON`);

    await writeFile(join(dir, 'train.json'), JSON.stringify({ 'a.jpg': 1, 'b.jpg': 'x' }));
    await expect(fgvc(dir, 'cars', 'train', { checkFiles: false })).rejects.toThrowError(`${join(dir, 'train.json')} ["b.jpg"]: class id "x" is not an integer`);

    await writeFile(join(dir, 'train.json'), JSON.stringify({ 'a.jpg': 1 }));
    const missing = await fgvc(dir, 'cars', 'train').catch((e) => e);
    expect(missing).toBeInstanceOf(MissingImageError);
    expect(missing.message).toBe(`${join(dir, 'train.json')} ["a.jpg"]: image file not found: ${join(dir, 'a.jpg')}`);

    const skipped = await fgvc(dir, 'cars', 'train', { skipCorrupt: true });
    expect(skipped.samples).toHaveLength(0);
    expect(skipped.skipped.map((s) => s.error.name)).toEqual(['MissingImageError']);

    await expect(fgvc(dir, 'cars', 'test')).rejects.toThrowError(MissingDatasetError);
  });

  it('batches with the FGVC pipeline: shorter side 256, crop 224', async () => {
    const ds = await fgvc(join(root, 'cars'), 'cars', 'test');
    for (const train of [false, true]) {
      const it = batches(ds, { batchSize: 2, transform: fgvcTransform({ train }), shuffle: train });
      for await (const { x, y } of it) {
        expect(x.shape).toEqual([2, 224, 224, 3]);
        expect(y.shape).toEqual([2]);
        x.dispose();
        y.dispose();
      }
      expect(it.stats.images).toBe(2);
    }
  });
});
