import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { inputTensors, type FrozenPartInfo, type PeftModel } from '@vpeft/core';
import type { TrainBatch } from '../data';
import { CachedSplit } from './cached-split';
import { defaultCacheDirectory, DiskCache, FileRows, readStoredRows, type CacheDtype, type StoredRow } from './disk-cache';
import { MemoryRows, rowOf, rowWidth, specsOf, type RowSource, type RowSpec } from './rows';

/**
 * One split of images as the feature cache sees it (`featureSource` in `@vpeft/datasets` makes one
 * from a dataset and its transform).
 */
export interface CacheableSplit {
  /** e.g. `mnist train800`. */
  readonly name: string;
  readonly size: number;
  /** Class ids in split order. */
  readonly labels: Int32Array;
  /** Changes whenever the pipeline's output could. */
  readonly pipelineKey: string;
  /** Why a sample's pixels vary between epochs (augmentation), or undefined when they never do. */
  readonly varies: string | undefined;
  /** Image identities in split order (file path + size + mtime, or a content hash). */
  identities(): Promise<string[]>;
  /** Decoded batches of the samples `subset` (default all), in that order; `indices` index the whole split. */
  batches(batchSize: number, subset?: Int32Array): AsyncIterable<TrainBatch & { readonly indices: Int32Array }>;
  /** An epoch's order: the same as the uncached pipeline's for `(shuffle, seed, epoch)`. */
  order(options: { shuffle?: boolean; seed?: number; epoch?: number }): Int32Array;
}

/** Options of the feature cache. */
export interface FeatureCacheOptions {
  /** Folder of the on-disk cache; default `$VPEFT_CACHE_DIR` or `~/.cache/vpeft/features`. */
  dir?: string;
  /** Largest size of the on-disk cache, bytes (least recently used entries are evicted); default 20 GiB. */
  limitBytes?: number;
  /** Largest split kept in memory, bytes; larger ones are read from disk batch by batch. Default 2 GiB. */
  memoryBytes?: number;
  /** On-disk encoding: `float32` (default, bit-exact) or `float16`. */
  dtype?: CacheDtype;
  /** Images per forward pass while filling the cache; default 64. */
  batchSize?: number;
  /** Write computed rows to disk (shared by later runs); default true. */
  persist?: boolean;
  /** Called as images are computed. */
  onProgress?: (event: { split: string; done: number; total: number }) => void;
}

/** Whether a run trains from cached frozen-part outputs, and the line that says why (or why not). */
export type FeatureCachePlan = { readonly use: true; readonly frozen: FrozenPartInfo; readonly line: string } | { readonly use: false; readonly line: string };

const GiB = 2 ** 30;

/**
 * Decides whether `model` can train from cached frozen-part outputs of `splits`: the backbone must
 * split off a frozen part for the model's methods (nothing trains or acts in it, no drop-path there)
 * and every split's pixels must be the same each epoch (no augmentation).
 */
export function planFeatureCache(model: PeftModel, splits: readonly CacheableSplit[]): FeatureCachePlan {
  const frozen = model.frozenPart();
  if ('reason' in frozen) return { use: false, line: `feature cache off: ${frozen.reason}` };
  const varying = splits.find((s) => s.varies);
  if (varying) return { use: false, line: `feature cache off: ${varying.varies} in ${varying.name}` };
  return { use: true, frozen, line: `feature cache on: ${frozen.description} run once per image (frozen, no augmentation); training and evaluation read their output` };
}

/** A SHA-256 of the backbone's parameter values (the cache key's checkpoint part). */
export async function backboneChecksum(model: PeftModel): Promise<string> {
  const hash = createHash('sha256');
  for (const p of model.parameters.list().filter((q) => q.owner === 'backbone').sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const data = (await p.variable.data()) as Float32Array;
    hash.update(`${p.name}:${p.variable.shape.join('x')}:`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

/**
 * The frozen part's output for every image of `split`: rows found in the on-disk cache under the
 * same key (backbone checksum, split point, pipeline) are read, the others computed once (off the
 * tape) and stored. The result serves batches in the uncached pipeline's order.
 */
export async function cacheSplit(model: PeftModel, frozen: FrozenPartInfo, checksum: string, split: CacheableSplit, options: FeatureCacheOptions = {}): Promise<CachedSplit> {
  const disk = new DiskCache(options.dir ?? defaultCacheDirectory(), options.limitBytes ?? 20 * GiB);
  const key = JSON.stringify({ format: 1, backbone: checksum, split: frozen.key, pipeline: split.pipelineKey });
  const identities = await split.identities();
  const stored = await disk.rows(key);
  const found: Array<StoredRow | undefined> = identities.map((id) => stored?.rows.get(id));
  const missing = Int32Array.from(identities.keys()).filter((i) => !found[i]);
  let specs = stored?.specs;
  let outputKey = stored?.outputKey;
  const computed = new Map<number, Float32Array>();
  let done = 0;
  for await (const batch of split.batches(options.batchSize ?? 64, missing)) {
    let values: Float32Array[];
    let batchSpecs: RowSpec[];
    try {
      const output = model.frozenOutput(batch.x as tf.Tensor4D);
      batchSpecs = specsOf(output.tensors);
      outputKey ??= output.key;
      values = (await Promise.all(Object.values(output.tensors).map((t) => t.data()))) as Float32Array[];
      tf.dispose(inputTensors(output));
    } finally {
      tf.dispose([...inputTensors(batch.x), batch.y]);
    }
    specs ??= batchSpecs;
    if (JSON.stringify(batchSpecs) !== JSON.stringify(specs) || outputKey === undefined) throw new Error(`feature cache: ${split.name} gave rows of another shape than the cache holds (${JSON.stringify(batchSpecs)} vs ${JSON.stringify(specs)})`);
    batch.indices.forEach((i, k) => {
      const row = new Float32Array(rowWidth(specs!));
      rowOf(values, specs!, k, row);
      computed.set(i, row);
    });
    done += batch.indices.length;
    options.onProgress?.({ split: split.name, done, total: missing.length });
  }
  if (!specs || outputKey === undefined) return new CachedSplit(frozen.key, new MemoryRows([], split.size), split, { computed: 0, read: 0 });
  const width = rowWidth(specs);
  let persisted = false;
  if (computed.size && options.persist !== false) {
    const order = [...computed.keys()].sort((a, b) => a - b);
    const values = new Float32Array(order.length * width);
    order.forEach((i, k) => values.set(computed.get(i)!, k * width));
    persisted = await disk.write(key, outputKey, specs, order.map((i) => identities[i]!), values, options.dtype ?? 'float32');
  }
  const bytes = split.size * width * 4;
  let rows: RowSource;
  if (bytes <= (options.memoryBytes ?? 2 * GiB) || !(persisted || computed.size === 0)) {
    const memory = new MemoryRows(specs, split.size);
    await readStoredRows(specs, found, (i, row) => memory.write(i, row));
    for (const [i, row] of computed) memory.write(i, row);
    rows = memory;
  } else {
    const again = await disk.rows(key);
    rows = new FileRows(specs, identities.map((id) => again?.rows.get(id)));
  }
  return new CachedSplit(outputKey, rows, split, { computed: computed.size, read: identities.length - missing.length });
}

/** What {@link prepareFeatureCache} gives: the plan and, when it is on, each split's cached outputs. */
export interface PreparedFeatureCache {
  readonly plan: FeatureCachePlan;
  /** The splits' cached outputs, in the order given; undefined when the cache is off. */
  readonly splits?: readonly CachedSplit[];
  /** One line: what was cached (images, bytes, computed vs read from disk) or why not. */
  readonly line: string;
}

/**
 * Plans the feature cache for `model` over `splits` (the training split first) and, when it
 * applies, fills it: the one call the CLI and the bench runner make before training.
 */
export async function prepareFeatureCache(model: PeftModel, splits: readonly CacheableSplit[], options: FeatureCacheOptions = {}): Promise<PreparedFeatureCache> {
  const plan = planFeatureCache(model, splits);
  if (!plan.use) return { plan, line: plan.line };
  const checksum = await backboneChecksum(model);
  const cached: CachedSplit[] = [];
  for (const split of splits) cached.push(await cacheSplit(model, plan.frozen, checksum, split, options));
  const images = cached.reduce((n, c) => n + c.counts.computed + c.counts.read, 0);
  const computed = cached.reduce((n, c) => n + c.counts.computed, 0);
  const memory = cached.reduce((n, c) => n + c.rows.memoryBytes, 0);
  const perImage = cached[0]?.rowBytes ?? 0;
  const where = memory > 0 ? `${formatBytes(memory)} in memory` : `read from ${options.dir ?? defaultCacheDirectory()} batch by batch`;
  return { plan, splits: cached, line: `${plan.line} (${images.toLocaleString('en-US')} images, ${formatBytes(perImage)} each, ${where}; ${computed.toLocaleString('en-US')} computed, ${(images - computed).toLocaleString('en-US')} from the disk cache)` };
}

/** Bytes for people: `13.1 MB`, `2.40 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
