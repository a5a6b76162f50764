import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { batches, epochOrder, type Batch, type BatchOptions } from './batches.js';
import type { ImageDataset, ImageSample } from './dataset.js';
import type { ImageTransform } from './transforms.js';

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
 * What a feature cache needs to know about one split under one transform (the shape `@vpeft/train`'s
 * feature cache takes as a `CacheableSplit`): its name, size and labels, a key for the transform, why
 * a sample's pixels vary between epochs (undefined when they never do), each sample's identity, its
 * samples decoded in a given order, and an epoch's order as {@link batches} visits them.
 */
export type FeatureSource = ReturnType<typeof featureSource>;

/**
 * A {@link FeatureSource} for `dataset` under `transform`; `options` are passed to each decode pass
 * (e.g. `skipCorrupt` and `onSkip`: a skipped image has no row, and epochs leave it out as the
 * uncached pipeline does).
 */
export function featureSource(dataset: ImageDataset, transform: ImageTransform, options: Pick<BatchOptions, 'skipCorrupt' | 'onSkip' | 'failOn' | 'concurrency'> = {}) {
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
    order: (o: { shuffle?: boolean; seed?: number; epoch?: number }) => epochOrder(dataset.samples.length, o),
  };
}
