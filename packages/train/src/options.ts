import { OptionError } from '@vpeft/core';
import type { DataParallelTrainer } from './parallel/data-parallel-trainer';
import { validateAdamWOptions, type AdamWOptions } from './adamw';
import type { CheckpointHooks, EvaluationRecord, TaskMetrics } from './checkpoint';
import type { EvalData, TrainBatch } from './data';
import type { TrainingGradients } from './gradients';
import type { EvaluationProgress } from './evaluate';
import type { ProgressEvent } from './progress';
import type { ScheduleOptions } from './schedule';

/** Optimizer settings of {@link fit}: AdamW hyper-parameters and which parameters skip weight decay. */
export interface FitOptimizerOptions extends AdamWOptions {
  /** Globs of parameter names never decayed (default {@link DEFAULT_NO_WEIGHT_DECAY}); 1-D, bias, norm, embedding and token parameters never are. */
  noWeightDecay?: readonly string[];
}

/** What a custom {@link FitOptions.evaluator} returns; the run's best evaluation is the one with the highest `top1`. */
export interface EvaluatorResult {
  top1: number;
  loss: number;
  /** Accuracy per class id (NaN for classes without images). */
  perClass: number[];
  /** Metrics per task (multi-task evaluators). */
  perTask?: Record<string, TaskMetrics>;
}

/** Options of {@link fit}. */
export interface FitOptions<B extends TrainBatch = TrainBatch> {
  /** Passes over the training data. */
  epochs: number;
  /** Batch size to ask the data for (passed in the epoch context); the data decides what it yields. */
  batchSize?: number;
  /** AdamW settings; `learningRate` is the schedule's peak. */
  optimizer: FitOptimizerOptions;
  /** Per-step learning-rate schedule. Default `{ type: 'cosine' }` (no warm-up, down to 0). */
  schedule?: ScheduleOptions;
  /** Label smoothing ε in [0, 1). Default 0. */
  labelSmoothing?: number;
  /** Held-out data scored every `evalEvery` epochs and after the last; enables best-on-validation selection. */
  eval?: EvalData;
  /** Evaluate every this many epochs. Default 1. */
  evalEvery?: number;
  /** Forward chunk size during evaluation (bounded memory). Default: each batch at once. */
  evalBatchSize?: number;
  /** Seed handed to the data (its order must be a function of `(seed, epoch)`). Default 42. */
  seed?: number;
  /** Where `last/` (adapter + optimizer + trainer state) and `best/` (best adapter) are written. */
  checkpointDir?: string;
  /** Also checkpoint every this many steps (default: only at the end of each epoch). Needs `checkpointDir`. */
  checkpointEvery?: number;
  /** Continue from `checkpointDir/last/` when it exists (same settings required). Default false. */
  resume?: boolean;
  /** Called after every optimizer step (and after its checkpoint, if one was due). A throw stops training. */
  onProgress?: (event: ProgressEvent) => void | Promise<void>;
  /** Called after every scored batch of the built-in evaluation (images, img/s, ETA with `evalImages`). */
  onEvaluationProgress?: (progress: EvaluationProgress) => void | Promise<void>;
  /** Images in `eval`, for the evaluation progress' ETA. */
  evalImages?: number;
  /** Called after every evaluation. */
  onEvaluation?: (record: EvaluationRecord, isBest: boolean) => void | Promise<void>;
  /** Clip the global gradient norm to this value (PyTorch `clip_grad_norm_`). Default: no clipping. */
  gradientClip?: number;
  /** Split each batch into chunks of at most this many images and accumulate their gradients before one step. */
  microBatch?: number;
  /**
   * Compute each step's gradients on worker threads (`createDataParallelTrainer`: one backend
   * instance and heap per worker, both cores busy); the optimizer still steps on this thread. The
   * workers' `microBatch` bounds their memory. Label smoothing is applied as smoothed targets.
   * The evaluations on `eval` run on the workers too (their `predict`).
   */
  dataParallel?: DataParallelTrainer;
  /** After training, load the best-on-validation weights into the model. Default false (the model keeps the last weights). */
  restoreBest?: boolean;
  /** Hooks inside checkpoint saves (fault-injection tests). */
  checkpointHooks?: CheckpointHooks;
  /**
   * Computes one step's loss and gradients (keyed by variable name; variables without a gradient are
   * skipped by AdamW) instead of the model's label-smoothed cross-entropy; `fit` still owns the
   * optimizer, schedule, clipping, checkpoints and progress. Not with `dataParallel` or `microBatch`.
   */
  stepGradients?: (batch: B, context: { labelSmoothing: number }) => TrainingGradients | Promise<TrainingGradients>;
  /** More settings that fix the run's trajectory (e.g. task sampling): saved in checkpoints, and a resume with other values is refused. */
  extraSettings?: Record<string, unknown>;
  /** Scores the model instead of `evaluate(model, eval)`, on the same schedule (`evalEvery`, after the last epoch). */
  evaluator?: () => Promise<EvaluatorResult>;
}

/** {@link FitOptions} with defaults applied and values checked. */
export interface ResolvedFitOptions<B extends TrainBatch = TrainBatch> extends FitOptions<B> {
  optimizer: Required<AdamWOptions> & { noWeightDecay?: readonly string[] };
  schedule: ScheduleOptions;
  labelSmoothing: number;
  evalEvery: number;
  seed: number;
  resume: boolean;
  restoreBest: boolean;
}

/** Applies defaults and validates {@link FitOptions}; errors name the option, the value and what is allowed. */
export function resolveFitOptions<B extends TrainBatch>(options: FitOptions<B>): ResolvedFitOptions<B> {
  const positiveInteger = (name: string, value: unknown) => {
    if (!Number.isInteger(value) || (value as number) < 1) throw new OptionError(name, value, 'a positive integer', 'fit');
  };
  positiveInteger('epochs', options.epochs);
  for (const name of ['batchSize', 'evalEvery', 'evalBatchSize', 'checkpointEvery', 'microBatch'] as const) {
    if (options[name] !== undefined) positiveInteger(name, options[name]);
  }
  if (!options.optimizer || typeof options.optimizer !== 'object') throw new OptionError('optimizer', options.optimizer, '{ learningRate, weightDecay?, beta1?, beta2?, epsilon? }', 'fit');
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1)) throw new OptionError('labelSmoothing', labelSmoothing, 'a number in [0, 1)', 'fit');
  if (options.gradientClip !== undefined && !(typeof options.gradientClip === 'number' && options.gradientClip > 0 && Number.isFinite(options.gradientClip))) {
    throw new OptionError('gradientClip', options.gradientClip, 'a finite number > 0 (the maximum global gradient norm)', 'fit');
  }
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new OptionError('seed', seed, 'an integer', 'fit');
  if (options.resume && !options.checkpointDir) throw new OptionError('resume', true, 'resume only together with checkpointDir', 'fit');
  if (options.stepGradients && (options.dataParallel || options.microBatch !== undefined)) {
    throw new OptionError(options.dataParallel ? 'dataParallel' : 'microBatch', 'given', 'not together with stepGradients (the custom step computes the whole batch)', 'fit');
  }
  if (options.checkpointEvery !== undefined && !options.checkpointDir) throw new OptionError('checkpointEvery', options.checkpointEvery, 'checkpointEvery only together with checkpointDir', 'fit');
  return {
    ...options,
    optimizer: { ...validateAdamWOptions(options.optimizer), ...(options.optimizer.noWeightDecay ? { noWeightDecay: options.optimizer.noWeightDecay } : {}) },
    schedule: options.schedule ?? { type: 'cosine' },
    labelSmoothing,
    evalEvery: options.evalEvery ?? 1,
    seed,
    resume: options.resume ?? false,
    restoreBest: options.restoreBest ?? false,
  };
}
