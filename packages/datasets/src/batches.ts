import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from './dataset.js';
import type { DecodedImage } from './decode.js';
import { decodeImage } from './decode.js';
import { DatasetOptionError, ImageDecodeError } from './errors.js';
import { mixSeed, mulberry32, permutation } from './random.js';
import type { ImageTransform } from './transforms.js';
import { cropImage, fgvcTransform, normalizeInto, vtabTransform } from './transforms.js';

/** One batch. The caller owns (and must dispose) `x` and `y`. */
export interface Batch {
  /** Images, NHWC float32, normalised per the transform. */
  readonly x: tf.Tensor4D;
  /** Class ids, int32. */
  readonly y: tf.Tensor1D;
  /** Indices into `dataset.samples` of the batch's images, in batch order. */
  readonly indices: Int32Array;
}

/** Options for {@link batches}. */
export interface BatchOptions {
  readonly batchSize: number;
  /**
   * Preprocessing. Default: the dataset's benchmark pipeline — {@link vtabTransform} (224, ImageNet)
   * or {@link fgvcTransform} with `train` set to `shuffle`.
   */
  readonly transform?: ImageTransform;
  /** Shuffle the order (seeded; different per epoch). Default false (split-file order). */
  readonly shuffle?: boolean;
  /** Seed for the shuffle and for random crops/flips. Default 42 (the benchmark's seed). */
  readonly seed?: number;
  /** Epoch number, mixed into the seed: each epoch has its own order and augmentations. Default 0. */
  readonly epoch?: number;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  readonly dropLast?: boolean;
  /** Images decoded at the same time. Default 4. */
  readonly concurrency?: number;
  /** Batches decoded ahead of the one being consumed. Default 2. */
  readonly prefetch?: number;
  /** Skip images that fail to decode (counted in `stats`) instead of throwing. Default false. */
  readonly skipCorrupt?: boolean;
  /** Called for each skipped image (with `skipCorrupt`). */
  readonly onSkip?: (error: ImageDecodeError, index: number) => void;
  /** sharp's `failOn` strictness for damaged files. Default `warning`. */
  readonly failOn?: 'none' | 'truncated' | 'error' | 'warning';
}

/** Counters for a batch iteration, updated as it runs. */
export interface BatchStats {
  batches: number;
  images: number;
  /** Images skipped because they failed to decode (only with `skipCorrupt`). */
  skipped: number;
  /** The decode errors of the skipped images. */
  readonly skippedErrors: ImageDecodeError[];
}

/** An async iterator of batches that also exposes running {@link BatchStats}. */
export type BatchIterator = AsyncGenerator<Batch, void, undefined> & { readonly stats: BatchStats };

/** Number of batches an epoch yields when no image is skipped. */
export function batchCount(size: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/** The order an epoch visits samples in: a seeded permutation (per `seed` and `epoch`) or `0..n-1`. */
export function epochOrder(size: number, options: { shuffle?: boolean; seed?: number; epoch?: number } = {}): Int32Array {
  if (options.shuffle) return permutation(size, mixSeed(options.seed ?? 42, options.epoch ?? 0));
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  return order;
}

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new DatasetOptionError(name, value, `an integer >= ${min}`);
  return value;
}

/** Bounds how many async tasks run at once. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

type Decoded = { ok: true; index: number; image: DecodedImage } | { ok: false; index: number; error: unknown } | null;

/**
 * Iterates a dataset in batches of `{ x: Tensor4D NHWC float32, y: Tensor1D int32 }`.
 *
 * Images are decoded with bounded concurrency (`concurrency`) and at most
 * `concurrency + prefetch * batchSize` decoded (8-bit, already cropped) images are held ahead of
 * the consumer, so memory does not grow with the split size. Tensors are created only when a batch
 * is handed out; stopping early (`break`) leaks nothing. Shuffling and random crops/flips are
 * seeded by `(seed, epoch)` and the sample index, so they do not depend on decode timing.
 */
export function batches(dataset: ImageDataset, options: BatchOptions): BatchIterator {
  const batchSize = positiveInteger('batchSize', options.batchSize);
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 4);
  const prefetch = positiveInteger('prefetch', options.prefetch ?? 2, 0);
  const seed = options.seed ?? 42;
  const epoch = options.epoch ?? 0;
  const transform =
    options.transform ?? (dataset.pipeline === 'fgvc' ? fgvcTransform({ train: options.shuffle ?? false }) : vtabTransform());
  const order = epochOrder(dataset.samples.length, { shuffle: options.shuffle, seed, epoch });
  const stats: BatchStats = { batches: 0, images: 0, skipped: 0, skippedErrors: [] };

  async function* run(): AsyncGenerator<Batch, void, undefined> {
    const semaphore = new Semaphore(concurrency);
    const window = concurrency + prefetch * batchSize;
    const pending: Promise<Decoded>[] = [];
    let cancelled = false;
    let next = 0;

    const start = (index: number): void => {
      const sample = dataset.samples[index];
      pending.push(
        (async (): Promise<Decoded> => {
          await semaphore.acquire();
          try {
            if (cancelled) return null;
            const decoded = await decodeImage(sample.source, {
              resize: transform.resize,
              kernel: transform.kernel,
              background: transform.background,
              failOn: options.failOn,
              origin: sample.origin,
            });
            return { ok: true, index, image: cropImage(decoded, transform, mulberry32(mixSeed(seed, epoch, index))) };
          } catch (error) {
            return { ok: false, index, error };
          } finally {
            semaphore.release();
          }
        })(),
      );
    };

    const pixels = transform.height * transform.width * 3;
    let images: DecodedImage[] = [];
    let indices: number[] = [];
    const makeBatch = (): Batch => {
      const n = images.length;
      const x = new Float32Array(n * pixels);
      const labels = new Int32Array(n);
      images.forEach((image, i) => {
        normalizeInto(image, transform, x, i * pixels);
        labels[i] = dataset.samples[indices[i]].label;
      });
      const batch: Batch = {
        x: tf.tensor4d(x, [n, transform.height, transform.width, 3], 'float32'),
        y: tf.tensor1d(labels, 'int32'),
        indices: Int32Array.from(indices),
      };
      stats.batches++;
      stats.images += n;
      images = [];
      indices = [];
      return batch;
    };

    try {
      while (next < order.length && pending.length < window) start(order[next++]);
      while (pending.length > 0) {
        const result = await pending.shift()!;
        if (next < order.length) start(order[next++]);
        if (result === null) continue;
        if (!result.ok) {
          if (options.skipCorrupt && result.error instanceof ImageDecodeError) {
            stats.skipped++;
            stats.skippedErrors.push(result.error);
            options.onSkip?.(result.error, result.index);
            continue;
          }
          throw result.error;
        }
        images.push(result.image);
        indices.push(result.index);
        if (images.length === batchSize) yield makeBatch();
      }
      if (images.length > 0 && !options.dropLast) yield makeBatch();
    } finally {
      cancelled = true;
    }
  }

  return Object.assign(run(), { stats });
}
