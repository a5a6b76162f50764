/**
 * @vpeft/train for browsers (the `browser` export condition): `fit` without `checkpointDir`,
 * `evaluate`, AdamW, schedules, losses and gradients, with no `node:` module in its graph. Checkpoints
 * on disk and data-parallel worker threads are in the Node entry.
 */
export { fit, type FitResult } from './fit';
export { resolveFitOptions, type FitOptions, type FitOptimizerOptions, type ResolvedFitOptions, type EvaluatorResult } from './options';
export type { TrainBatch, ImageBatch, TrainData, EpochContext, EvalData, TrainableModel } from './data';
export { evaluate, type EvaluateOptions, type EvaluationProgress, type EvaluationResult } from './evaluate';
export { AdamW, validateAdamWOptions, type AdamWOptions, type AdamWParameter, type AdamWState, type NamedTensor } from './adamw';
export { decaysWeight, DEFAULT_NO_WEIGHT_DECAY } from './weight-decay';
export { learningRateAt, resolveSchedule, BENCHMARK_SCHEDULE, type ScheduleOptions, type ResolvedSchedule } from './schedule';
export { smoothedCrossEntropySum, crossEntropySum, trainingTargets } from './loss';
export { lossGradients, trainingGradients, parallelTrainingGradients, clipByGlobalNorm, type LossGradientsOptions, type TrainingGradients } from './gradients';
export { ThroughputMeter, wasmHeapBytes, type ProgressEvent } from './progress';
export { NonFiniteLossError, CheckpointError } from './errors';
export type { TaskMetrics, EvaluationRecord, RunSettings, TrainerState } from './run-state';
export { settingsDifferences } from './run-state';
export { setCheckpointStore, checkpointStore, type CheckpointStore } from './checkpoint-store';
export type { CheckpointHooks, CheckpointStage } from './checkpoint';
