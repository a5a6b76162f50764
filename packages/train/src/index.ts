/**
 * @vpeft/train — the trainer for vpeft models: `fit` (AdamW with decoupled weight decay, cosine
 * schedule with linear warm-up, label smoothing, gradient clipping, micro-batching, evaluation,
 * best-on-validation selection, atomic checkpoints and exact resume), `evaluate`, the one loss and
 * gradient loop (`lossGradients`) and data-parallel training on worker threads
 * (`createDataParallelTrainer`).
 */
// Checkpoints on disk, installed on import (the browser entry has none).
import './node-checkpoint-store';

export * from './browser';
export { fileCheckpointStore } from './node-checkpoint-store';
export {
  chooseWorkers,
  estimateStepSeconds,
  MIN_AUTO_WORKER_SECONDS,
  MIN_IMAGES_PER_WORKER,
  type WorkerChoice,
  type WorkerChoiceOptions,
} from './parallel/auto-workers';
export { createDataParallelTrainer, splitBatch, type BatchGradients, type DataParallelOptions, type DataParallelTrainer } from './parallel/data-parallel-trainer';
export {
  saveCheckpoint,
  loadCheckpoint,
  saveBestAdapter,
  readTrainerState,
  lastCheckpointDirectory,
  bestAdapterDirectory,
  LAST_CHECKPOINT,
  BEST_CHECKPOINT,
  OPTIMIZER_STATE_FILE,
  TRAINER_STATE_FILE,
  BEST_METRICS_FILE,
} from './checkpoint';
export { replaceDirectory, resolveCommittedDirectory } from './atomic-directory';
export {
  planFeatureCache,
  prepareFeatureCache,
  cacheSplit,
  backboneChecksum,
  formatBytes,
  type CacheableSplit,
  type FeatureCacheOptions,
  type FeatureCachePlan,
  type PreparedFeatureCache,
} from './feature-cache/feature-cache';
export { CachedSplit, type CachedBatch } from './feature-cache/cached-split';
export { DiskCache, defaultCacheDirectory, type CacheDtype } from './feature-cache/disk-cache';
export { encodeFloat16 } from './feature-cache/float16';
