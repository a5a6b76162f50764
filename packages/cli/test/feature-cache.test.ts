import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, decodeFloat16, initBackend, type Backbone } from '@vpeft/core';
import { featureSource, imageFolder, vtabTransform, type ImageDataset } from '@vpeft/datasets';
import { loadNsfwjsMobileNetV2 } from '@vpeft/backbone-layers';
import { loadPretrainedViTMnist } from '@vpeft/pretrained';
import { DiskCache, encodeFloat16, prepareFeatureCache } from '@vpeft/train';
import { writeSolidImage } from '../../datasets/test/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTaskData, type TaskData } from '../src/data-spec';
import { processOutput } from '../src/output';
import { runTraining, type Recipe } from '../src/run-training';
import { parseMethodSpec } from '../src/method-spec';
import { vpeft } from './spawn-cli';
import '@vpeft/method-bitfit';
import '@vpeft/method-lora';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-feature-cache-'));
  await initBackend();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const quiet = processOutput(true);

function take(dataset: ImageDataset, count: number): ImageDataset {
  return { ...dataset, samples: dataset.samples.slice(0, count) };
}

function small(task: TaskData, sizes: [number, number, number]): TaskData {
  return { ...task, train: take(task.train, sizes[0]), val: take(task.val, sizes[1]), test: take(task.test, sizes[2]) };
}

const recipe: Recipe = { epochs: 2, batchSize: 16, learningRate: 3e-3, weightDecay: 1e-4, warmupEpochs: 0.5, labelSmoothing: 0.1, seed: 42 };

/** Trains the same model twice (each on a fresh backbone: `partial` trains backbone weights), with and without the cache. */
async function withAndWithout(load: () => Promise<Backbone>, methods: string[], task: TaskData, cacheDir: string) {
  const run = async (cache: false | { dir: string }) => {
    const { report, model } = await runTraining('run', await load(), methods.map(parseMethodSpec), task, recipe, quiet, { cache });
    model.dispose({ backbone: true });
    return report;
  };
  const cached = await run({ dir: cacheDir });
  const plain = await run(false);
  return { cached, plain };
}

function expectSameNumbers(a: Awaited<ReturnType<typeof withAndWithout>>['cached'], b: typeof a, tolerance: number): void {
  expect(a.fit.evaluations.length).toBe(b.fit.evaluations.length);
  a.fit.evaluations.forEach((e, i) => {
    expect(Math.abs(e.loss - b.fit.evaluations[i]!.loss), `val loss, epoch ${i}`).toBeLessThanOrEqual(tolerance);
    expect(e.top1, `val top-1, epoch ${i}`).toBe(b.fit.evaluations[i]!.top1);
  });
  expect(Math.abs(a.fit.finalLoss! - b.fit.finalLoss!), 'last training loss').toBeLessThanOrEqual(tolerance);
  expect(a.testTop1, 'test top-1').toBe(b.testTop1);
}

describe('feature cache: same numbers with and without it', () => {
  it('pre-trained ViT, partial (the last block trains): bit-identical losses and accuracies', async () => {
    const task = small(await loadTaskData('mnist:classes=5|6|7|8|9'), [96, 48, 64]);
    const { cached, plain } = await withAndWithout(loadPretrainedViTMnist, ['partial:lastBlocks=1'], task, join(dir, 'vit'));
    expectSameNumbers(cached, plain, 0);
  });

  it('MobileNetV2, linear probe on bundled emoji images: the same losses and accuracies', async () => {
    const task = small(await loadTaskData('emoji'), [32, 16, 16]);
    const { cached, plain } = await withAndWithout(loadNsfwjsMobileNetV2, [], task, join(dir, 'mobilenet'));
    expectSameNumbers(cached, plain, 1e-6);
  }, 300_000);
});

/** Eight small JPEGs in two class folders under `root`. */
async function folderTask(root: string): Promise<ImageDataset> {
  for (const [c, name] of ['a', 'b'].entries()) {
    for (let i = 0; i < 4; i++) await writeSolidImage(join(root, name, `${i}.jpg`), [(c * 97 + i * 31) % 256, 40 * i, 200 - 50 * c]);
  }
  return imageFolder(root);
}

describe('feature cache: never stale, shared, bounded', () => {
  it('rebuilds the rows of a changed image file and all rows after a change of the backbone weights', async () => {
    const images = join(dir, 'folder');
    const cacheDir = join(dir, 'stale');
    const dataset = await folderTask(images);
    const backbone = await loadPretrainedViTMnist();
    const model = applyPeft(backbone, [], { numClasses: 2 });
    const transform = vtabTransform({ size: [28, 28] });
    const fill = async () => {
      const prepared = await prepareFeatureCache(model, [featureSource(dataset, transform)], { dir: cacheDir });
      return prepared.splits![0]!.counts;
    };
    expect(await fill()).toEqual({ computed: 8, read: 0 });
    expect(await fill()).toEqual({ computed: 0, read: 8 });
    // One image changes (new bytes, new size/mtime): only its row is recomputed.
    await writeSolidImage(join(images, 'a', '2.jpg'), [10, 250, 10], 44, 33);
    expect(await fill()).toEqual({ computed: 1, read: 7 });
    // New backbone weights: nothing cached applies.
    const p = backbone.parameters.get('blocks.0.mlp.fc1.bias').variable;
    const changed = tf.add(p, 0.01);
    p.assign(changed);
    changed.dispose();
    expect(await fill()).toEqual({ computed: 8, read: 0 });
    model.dispose({ backbone: true });
  });

  it('keeps the folder within its limit by evicting the least recently used entries', async () => {
    const cache = new DiskCache(join(dir, 'limit'), 3000);
    const specs = [{ name: 'x', shape: [100] }];
    const rows = (v: number) => new Float32Array(200).fill(v);
    expect(await cache.write('first', 'k', specs, ['i1', 'i2'], rows(1), 'float32')).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await cache.write('second', 'k', specs, ['i1', 'i2'], rows(2), 'float32')).toBe(true);
    // 800 + 800 bytes (+ metadata) fit; a third entry of 1,600 bytes evicts the oldest.
    expect(await cache.write('third', 'k', specs, ['i1', 'i2', 'i3', 'i4'], new Float32Array(400).fill(3), 'float32')).toBe(true);
    expect(await cache.rows('first')).toBeUndefined();
    expect((await cache.rows('second'))?.rows.size).toBe(2);
    expect(await cache.size()).toBeLessThanOrEqual(3000);
    // A chunk larger than the whole limit is not stored.
    expect(await cache.write('huge', 'k', specs, Array.from({ length: 10 }, (_, i) => `h${i}`), new Float32Array(1000), 'float32')).toBe(false);
    await cache.clear();
    expect(await cache.size()).toBe(0);
  });

  it('stores float16 rows rounded to nearest even (IEEE 754 binary16 bit patterns)', () => {
    const values = new Float32Array([1, -2, 65504, 0.1, 2 ** -24, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, Number.NEGATIVE_INFINITY]);
    // Expected patterns from the binary16 layout: sign | exponent (bias 15) << 10 | mantissa.
    expect(Array.from(encodeFloat16(values))).toEqual([0x3c00, 0xc000, 0x7bff, 0x2e66, 0x0001, 0x0000, 0x3c00, 0x3c02, 0x7c00, 0xfc00]);
    const back = decodeFloat16(new Uint8Array(encodeFloat16(new Float32Array([0.5, 3.140625])).buffer), 0, 2);
    expect(Array.from(back)).toEqual([0.5, 3.140625]);
  });
});

describe('vpeft train and the feature cache', () => {
  it('says in one line what it cached, and --cache-limit takes a size or exits 2', async () => {
    const env = { VPEFT_CACHE_DIR: join(dir, 'cli') };
    const bad = await vpeft(['train', '--backbone', 'vit_tiny_patch7_28_mnist04', '--data', 'mnist:classes=5|6|7|8|9', '--cache-limit', 'lots'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderrLines).toEqual(['vpeft: --cache-limit expects a size such as 500MB, 20GB or 1.5GiB, got "lots" (see vpeft --help)']);
    const images = join(dir, 'cli-images');
    await folderTask(images);
    const data = `folder:${images}:${images}:${images}`;
    const run = await vpeft(['train', '--backbone', 'vit_tiny_patch7_28_mnist04', '--data', data, '--epochs', '1', '--batch-size', '4', '--method', 'partial:lastBlocks=2'], env);
    expect(run.code, run.stderr).toBe(0);
    // Three splits of the same 8 images: 8 computed, 16 read back; 17 tokens x 192 float32 = 13,056 bytes each.
    expect(run.stderrLines.filter((l) => l.startsWith('feature cache'))).toEqual([
      'feature cache on: the embedding and blocks 0-3 of 6 run once per image (frozen, no augmentation); training and evaluation read their output (24 images, 13.1 kB each, 313.3 kB in memory; 8 computed, 16 from the disk cache)',
    ]);
    const off = await vpeft(['train', '--backbone', 'vit_tiny_patch7_28_mnist04', '--data', data, '--epochs', '1', '--batch-size', '4', '--method', 'lora:r=2'], env);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderrLines.filter((l) => l.startsWith('feature cache'))).toEqual(['feature cache off: a method acts in (or trains) block 0, so no block is frozen']);
    const size = await vpeft(['cache', '--json'], env);
    expect(JSON.parse(size.stdout)).toMatchObject({ dir: join(dir, 'cli'), bytes: expect.any(Number) });
    expect(JSON.parse(size.stdout).bytes).toBeGreaterThan(8 * 13_056);
    const cleared = await vpeft(['cache', '--clear'], env);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(/^feature cache .*: removed [\d.]+ kB; 0 B left\n$/);
  }, 120_000);
});
