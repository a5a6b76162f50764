import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset, ImageDecodeError } from '../src/index.js';
import { batchCount, batches, epochOrder, vtab1k, vtabTransform } from '../src/index.js';
import { tempDir, writeVtabTask } from './fixtures.js';

/** 23 grey 2x2 images whose pixel value is 10 * index; label = index % 3. */
const memory: ImageDataset = {
  name: 'memory',
  split: 'all',
  numClasses: 3,
  classNames: ['a', 'b', 'c'],
  samples: Array.from({ length: 23 }, (_, i) => ({
    source: { data: new Uint8Array(4).fill(10 * i), width: 2, height: 2, channels: 1 as const },
    label: i % 3,
  })),
  skipped: [],
  pipeline: 'vtab',
};
const unit = vtabTransform({ size: 2, normalization: 'unit', kernel: 'nearest' });

async function collect(options: Parameters<typeof batches>[1], dataset = memory) {
  const out: { indices: number[]; labels: number[]; first: number[] }[] = [];
  for await (const { x, y, indices } of batches(dataset, options)) {
    const pixels = await x.data();
    out.push({
      indices: Array.from(indices),
      labels: Array.from(await y.data()),
      first: Array.from({ length: indices.length }, (_, b) => Math.round(pixels[b * 12] * 255)),
    });
    tf.dispose([x, y]);
  }
  return out;
}

describe('batches', () => {
  it('yields NHWC float32 images and int32 labels matching the samples, last batch partial', async () => {
    const out = await collect({ batchSize: 10, transform: unit });
    expect(out.map((b) => b.indices.length)).toEqual([10, 10, 3]);
    expect(out.flatMap((b) => b.indices)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    for (const b of out) {
      expect(b.labels).toEqual(b.indices.map((i) => i % 3));
      expect(b.first).toEqual(b.indices.map((i) => 10 * i));
    }
    expect((await collect({ batchSize: 10, transform: unit, dropLast: true })).length).toBe(2);
    expect(batchCount(23, 10)).toBe(3);
    expect(batchCount(23, 10, true)).toBe(2);
  });

  it('shuffles by seed: same seed and epoch → same order; other seed or epoch → another', async () => {
    const a = await collect({ batchSize: 8, transform: unit, shuffle: true, seed: 7 });
    const b = await collect({ batchSize: 8, transform: unit, shuffle: true, seed: 7, concurrency: 1, prefetch: 0 });
    const c = await collect({ batchSize: 8, transform: unit, shuffle: true, seed: 8 });
    const d = await collect({ batchSize: 8, transform: unit, shuffle: true, seed: 7, epoch: 1 });
    const order = (r: typeof a) => r.flatMap((x) => x.indices);
    expect(order(a)).toEqual(order(b));
    expect(order(a)).not.toEqual(order(c));
    expect(order(a)).not.toEqual(order(d));
    expect([...order(a)].sort((x, y) => x - y)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(order(a)).toEqual(Array.from(epochOrder(23, { shuffle: true, seed: 7 })));
    // Pixels still belong to their sample after shuffling.
    for (const batch of a) expect(batch.first).toEqual(batch.indices.map((i) => 10 * i));
  });

  it('random augmentation is seeded per (seed, epoch, sample), independent of concurrency', async () => {
    const augment = vtabTransform({ size: 2, augment: true, normalization: 'unit' });
    const ramp: ImageDataset = {
      ...memory,
      samples: Array.from({ length: 12 }, (_, i) => ({
        source: { data: Uint8Array.from({ length: 16 * 16 }, (_, p) => (p % 16) * 10 + i), width: 16, height: 16, channels: 1 as const },
        label: i % 3,
      })),
    };
    const run = async (concurrency: number, seed: number) => {
      const values: number[] = [];
      for await (const { x, y } of batches(ramp, { batchSize: 4, transform: augment, seed, concurrency })) {
        values.push(...(await x.data()));
        tf.dispose([x, y]);
      }
      return values;
    };
    const first = await run(4, 1);
    expect(await run(1, 1)).toEqual(first);
    expect(await run(4, 2)).not.toEqual(first);
  });

  it('leaves no tensors behind when the consumer stops early, and holds none while prefetching', async () => {
    const before = tf.memory().numTensors;
    const it = batches(memory, { batchSize: 4, transform: unit, prefetch: 3 });
    const first = await it.next();
    expect(first.done).toBe(false);
    // Only the handed-out batch exists as tensors; prefetched ones are still bytes.
    expect(tf.memory().numTensors).toBe(before + 2);
    if (!first.done) tf.dispose([first.value.x, first.value.y]);
    await it.return();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options', () => {
    expect(() => batches(memory, { batchSize: 0 })).toThrowError(/option `batchSize` got 0; expected an integer >= 1/);
    expect(() => batches(memory, { batchSize: 2, concurrency: 1.5 })).toThrowError(/concurrency/);
  });
});

describe('batches with corrupt images', () => {
  let root = '';
  let cleanup = async () => {};
  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('corrupt'));
    await writeVtabTask(root, 'dmlab', 6, { val200: 7 });
    await writeFile(join(root, 'dmlab', 'images', 'val200', '000003.jpg'), 'not a jpeg');
  });
  afterAll(() => cleanup());

  it('throws ImageDecodeError naming split file, line and image', async () => {
    const ds = await vtab1k(root, 'dmlab', 'val200');
    const before = tf.memory().numTensors;
    const error = await collect({ batchSize: 2, transform: vtabTransform({ size: 8 }) }, ds).catch((e) => e);
    expect(error.name).toBe('ImageDecodeError');
    expect(error.message).toContain(`${join(root, 'dmlab', 'val200.txt')}:4: cannot decode image ${join(root, 'dmlab', 'images', 'val200', '000003.jpg')}`);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skipCorrupt skips, keeps batches full and reports counts', async () => {
    const ds = await vtab1k(root, 'dmlab', 'val200');
    const seen: number[] = [];
    const it = batches(ds, { batchSize: 2, transform: vtabTransform({ size: 8 }), skipCorrupt: true, onSkip: (_e: ImageDecodeError, i) => seen.push(i) });
    const sizes: number[] = [];
    const indices: number[] = [];
    for await (const { x, y, indices: idx } of it) {
      sizes.push(x.shape[0]);
      indices.push(...idx);
      tf.dispose([x, y]);
    }
    expect(sizes).toEqual([2, 2, 2]);
    expect(indices).toEqual([0, 1, 2, 4, 5, 6]);
    expect(it.stats).toMatchObject({ batches: 3, images: 6, skipped: 1 });
    expect(it.stats.skippedErrors[0].origin?.line).toBe(4);
    expect(seen).toEqual([3]);
  });
});
