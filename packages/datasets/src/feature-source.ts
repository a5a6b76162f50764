import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { batches, epochOrder, type Batch, type BatchOptions } from './batches.js';
import type { ImageDataset, ImageSample } from './dataset.js';
import type { ImageTransform } from './transforms.js';

/**
 * What a feature cache needs to know about one split under one transform: whether the pixels a
 * sample gives are the same every epoch, a key for the transform, each sample's identity, and a way
 * to decode the split in file order. `@vpeft/train`'s feature cache takes this shape.
 */
export interface FeatureSource {
  /** e.g. `mnist train800`. */
  readonly name: string;
  /** Number of samples. */
  readonly size: number;
  /** The samples' labels, in split order. */
  readonly labels: Int32Array;
  /** Text that changes whenever the transform's output could (resize, crop, flip, normalisation). */
  readonly pipelineKey: string;
  /** Why the pixels of a sample vary between epochs (random crop, flip), or undefined when they never do. */
  readonly varies: string | undefined;
  /** Identities of the samples' images, in split order (see {@link sampleIdentity}). */
  identities(): Promise<string[]>;
  /** The samples `subset` (default all, in file order) decoded in that order; `indices` index the whole split. */
  batches(batchSize: number, subset?: Int32Array): AsyncIterable<Batch>;
  /** An epoch's order, as {@link batches} (the module's) visits samples for `(shuffle, seed, epoch)`. */
  order(options: { shuffle?: boolean; seed?: number; epoch?: number }): Int32Array;
}

/** Why `transform` gives different pixels for one image in different epochs, or undefined when it never does. */
export function transformVariation(transform: ImageTransform): string | undefined {
  const random = [transform.crop === 'random' ? 'a random crop' : '', transform.flipProbability > 0 ? 'a random horizontal flip' : ''].filter(Boolean);
  return random.length ? `the pipeline augments (${random.join(' and ')})` : undefined;
}

/** A key for everything in `transform` that shapes its output. */
export function pipelineKey(transform: ImageTransform): string {
  const { height, width, resize, crop, flipProbability, mean, std, kernel, background } = transform;
  return JSON.stringify({ height, width, resize, crop, flipProbability, mean, std, kernel, background });
}

/**
 * The identity of a sample's image, so a cache keyed by it is never served stale: for a file, its
 * absolute path, size and modification time (nanoseconds); for bytes or raw pixels in memory, a
 * SHA-256 of their content (and shape).
 */
export async function sampleIdentity(sample: ImageSample): Promise<string> {
  const { source } = sample;
  if (typeof source === 'string') {
    const info = await stat(source, { bigint: true }).catch(() => undefined);
    // A missing file has no identity to cache; the decode step reports (or skips) it.
    return info ? `file:${source}:${info.size}:${info.mtimeNs}` : `missing:${source}`;
  }
  const hash = createHash('sha256');
  if (source instanceof Uint8Array) {
    hash.update(source);
    return `bytes:${hash.digest('hex')}`;
  }
  hash.update(`${source.width}x${source.height}x${source.channels}:`);
  hash.update(source.data);
  return `pixels:${hash.digest('hex')}`;
}

/**
 * A {@link FeatureSource} for `dataset` under `transform`; `options` are passed to each decode pass
 * (e.g. `skipCorrupt` and `onSkip`: a skipped image has no row, and epochs leave it out as the
 * uncached pipeline does).
 */
export function featureSource(dataset: ImageDataset, transform: ImageTransform, options: Pick<BatchOptions, 'skipCorrupt' | 'onSkip' | 'failOn' | 'concurrency'> = {}): FeatureSource {
  async function* decode(batchSize: number, subset?: Int32Array): AsyncGenerator<Batch> {
    const part = subset ? { ...dataset, samples: Array.from(subset, (i) => dataset.samples[i]!) } : dataset;
    const onSkip = options.onSkip && subset ? (error: Parameters<NonNullable<BatchOptions['onSkip']>>[0], index: number) => options.onSkip!(error, subset[index]!) : options.onSkip;
    for await (const batch of batches(part, { ...options, batchSize, transform, ...(onSkip ? { onSkip } : {}) })) {
      yield subset ? { ...batch, indices: Int32Array.from(batch.indices, (i) => subset[i]!) } : batch;
    }
  }
  return {
    name: `${dataset.name} ${dataset.split}`,
    size: dataset.samples.length,
    labels: Int32Array.from(dataset.samples, (s) => s.label),
    pipelineKey: pipelineKey(transform),
    varies: transformVariation(transform),
    identities: () => Promise.all(dataset.samples.map(sampleIdentity)),
    batches: decode,
    order: (o) => epochOrder(dataset.samples.length, o),
  };
}
