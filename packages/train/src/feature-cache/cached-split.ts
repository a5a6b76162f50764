import * as tf from '@tensorflow/tfjs-core';
import type { FrozenOutput } from '@vpeft/core';
import type { EpochContext, TrainBatch, TrainData } from '../data';
import type { CacheableSplit } from './feature-cache';
import { gatherRows, type RowSource } from './rows';

/** A batch whose `x` is a frozen part's output rather than images. */
export interface CachedBatch extends TrainBatch {
  readonly indices: Int32Array;
}

/**
 * One split's frozen-part outputs, one row per image, served as batches in the same order (and the
 * same composition, skipped images included) as the uncached pipeline: `fit` and `evaluate` take
 * them as they take image batches.
 */
export class CachedSplit {
  constructor(
    /** The split point the rows were computed at. */
    readonly key: string,
    readonly rows: RowSource,
    private readonly split: CacheableSplit,
    /** Rows computed in this call and rows read from the on-disk cache. */
    readonly counts: { readonly computed: number; readonly read: number },
  ) {}

  /** Images with a row (all but those skipped as undecodable). */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.split.size; i++) if (this.rows.has(i)) n++;
    return n;
  }

  /** Bytes of one image's row. */
  get rowBytes(): number {
    return this.rows.specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Batches of one pass, in the pipeline's order for `(shuffle, seed, epoch)`. */
  async *batches(options: { batchSize: number; shuffle?: boolean; seed?: number; epoch?: number }): AsyncGenerator<CachedBatch> {
    const order = this.split.order(options).filter((i) => this.rows.has(i));
    for (let start = 0; start < order.length; start += options.batchSize) {
      const indices = order.subarray(start, Math.min(start + options.batchSize, order.length));
      const x: FrozenOutput = { kind: 'frozen-output', key: this.key, tensors: gatherRows(this.rows, indices) };
      const y = tf.tensor1d(Int32Array.from(indices, (i) => this.split.labels[i]!), 'int32');
      yield { x, y, indices: Int32Array.from(indices) };
    }
  }

  /** Training data for `fit`: shuffled per `(seed, epoch)` as the uncached pipeline shuffles. */
  trainData(batchSize: number): TrainData<CachedBatch> {
    return {
      stepsPerEpoch: Math.ceil(this.split.size / batchSize), // as the uncached pipeline counts (skipped images shorten an epoch)
      batches: ({ epoch, seed }: EpochContext) => this.batches({ batchSize, shuffle: true, seed, epoch }),
    };
  }

  /** Evaluation data for `fit`'s `eval` or `evaluate`: split order, a new pass per call. */
  evalData(batchSize: number): () => AsyncIterable<CachedBatch> {
    return () => this.batches({ batchSize });
  }
}
