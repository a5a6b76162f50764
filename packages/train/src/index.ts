/**
 * @vpeft/train — the trainer for vpeft models: `fit` (AdamW with decoupled weight decay, cosine
 * schedule with linear warm-up, label smoothing, gradient clipping, micro-batching, evaluation,
 * best-on-validation selection, atomic checkpoints and exact resume), `evaluate`, the one loss and
 * gradient loop (`lossGradients`) and data-parallel training on worker threads
 * (`createDataParallelTrainer`).
 */
export { fit, type FitResult } from './fit';
export { resolveFitOptions, type FitOptions, type FitOptimizerOptions, type ResolvedFitOptions, type EvaluatorResult } from './options';
export type { TrainBatch, ImageBatch, TrainData, EpochContext, EvalData, TrainableModel } from './data';
export { evaluate, type EvaluateOptions, type EvaluationResult } from './evaluate';
export { AdamW, validateAdamWOptions, type AdamWOptions, type AdamWParameter, type AdamWState, type NamedTensor } from './adamw';
export { decaysWeight, DEFAULT_NO_WEIGHT_DECAY } from './weight-decay';
export { learningRateAt, resolveSchedule, BENCHMARK_SCHEDULE, type ScheduleOptions, type ResolvedSchedule } from './schedule';
export { smoothedCrossEntropySum, crossEntropySum, trainingTargets } from './loss';
export { lossGradients, trainingGradients, parallelTrainingGradients, clipByGlobalNorm, type LossGradientsOptions, type TrainingGradients } from './gradients';
export { createDataParallelTrainer, splitBatch, type BatchGradients, type DataParallelOptions, type DataParallelTrainer } from './parallel/data-parallel-trainer';
export {
  saveCheckpoint,
  loadCheckpoint,
  saveBestAdapter,
  readTrainerState,
  lastCheckpointDirectory,
  bestAdapterDirectory,
  settingsDifferences,
  LAST_CHECKPOINT,
  BEST_CHECKPOINT,
  OPTIMIZER_STATE_FILE,
  TRAINER_STATE_FILE,
  BEST_METRICS_FILE,
  type TrainerState,
  type RunSettings,
  type EvaluationRecord,
  type TaskMetrics,
  type CheckpointStage,
  type CheckpointHooks,
} from './checkpoint';
export { replaceDirectory, resolveCommittedDirectory } from './atomic-directory';
export { ThroughputMeter, wasmHeapBytes, type ProgressEvent } from './progress';
export { NonFiniteLossError, CheckpointError } from './errors';
export {
  planFeatureCache,
  prepareFeatureCache,
  cacheSplit,
  formatBytes,
  backboneChecksum,
  type CacheableSplit,
  type FeatureCacheOptions,
  type FeatureCachePlan,
  type PreparedFeatureCache,
} from './feature-cache/feature-cache';
export { CachedSplit, type CachedBatch } from './feature-cache/cached-split';
export { DiskCache, defaultCacheDirectory, type CacheDtype } from './feature-cache/disk-cache';
