import type * as tf from '@tensorflow/tfjs-core';
import type { BackboneInput, Parameter } from '@vpeft/core';

/**
 * One batch of training or evaluation data: NHWC float32 images (or, from a feature cache, the
 * backbone's frozen-part output for them) and int32 class ids.
 * Ownership: {@link fit} and {@link evaluate} take every batch they receive and dispose `x` and `y`
 * once they are done with it (after the optimizer step, after scoring, or when skipping batches on
 * resume); the data source must not dispose or reuse them.
 */
export interface TrainBatch {
  readonly x: BackboneInput;
  readonly y: tf.Tensor1D;
}

/** A {@link TrainBatch} of images (not cached frozen-part outputs). */
export interface ImageBatch extends TrainBatch {
  readonly x: tf.Tensor4D;
}

/** What the trainer asks of the data source for one epoch. */
export interface EpochContext {
  /** Epoch number, from 0. */
  readonly epoch: number;
  /** The run's seed; the epoch's order (and augmentation) must be a deterministic function of `(seed, epoch)`. */
  readonly seed: number;
  /** The batch size asked for in {@link FitOptions.batchSize}, when given. */
  readonly batchSize?: number;
}

/**
 * Training data: the number of optimizer steps per epoch (which fixes the learning-rate schedule)
 * and a factory of each epoch's batches. A resumed run re-creates the interrupted epoch and skips
 * the batches already trained on, so the order must depend only on `(seed, epoch)`.
 */
export interface TrainData<B extends TrainBatch = TrainBatch> {
  /** Batches one epoch yields. An epoch that yields more is an error; fewer is allowed (skipped images). */
  readonly stepsPerEpoch: number;
  /** The batches of one epoch, e.g. `({ epoch, seed }) => batches(dataset, { batchSize: 64, shuffle: true, seed, epoch })`. */
  batches(context: EpochContext): AsyncIterable<B>;
}

/**
 * What {@link fit} trains: its trainable parameters, saved and loaded as an adapter directory in the
 * model's own format (checkpoints, `best/`). A `PeftModel` is one; other models (e.g. a multi-task
 * model) give `fit` their own `stepGradients` and `evaluator`.
 */
export interface TrainableModel {
  trainableParameters(): Parameter[];
  saveAdapter(dir: string): Promise<void>;
  loadAdapter(dir: string): Promise<void>;
}

/** Evaluation data: an iterable read once, or a factory called for each evaluation. */
export type EvalData = AsyncIterable<TrainBatch> | Iterable<TrainBatch> | (() => AsyncIterable<TrainBatch> | Iterable<TrainBatch>);
