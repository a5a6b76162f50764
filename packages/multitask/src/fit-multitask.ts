import { OptionError } from '@vpeft/core';
import { TaskError } from './errors';
import { evaluate, fit, type EvalData, type EvaluatorResult, type FitOptions, type FitResult, type TaskMetrics } from '@vpeft/train';
import { multiTaskTrainData, type MultiTaskBatch, type TaskSource } from './data';
import { multiTaskGradients } from './loss';
import type { MultiTaskModel } from './model';
import { taskProbabilities, type TaskSampling } from './sampling';

/** Training and validation data of every task, by task name. */
export interface MultiTaskData {
  /** Every task of the model, each with at least one training image. */
  train: Readonly<Record<string, TaskSource>>;
  /** Validation data per task (any subset of the tasks); enables per-task validation and best-epoch selection. */
  val?: Readonly<Record<string, EvalData>>;
}

/** Options of {@link fitMultiTask}: `fit`'s (AdamW, schedule, checkpoints, resume, progress) plus task sampling and loss weights. */
export interface MultiTaskFitOptions extends Omit<FitOptions<MultiTaskBatch>, 'eval' | 'stepGradients' | 'evaluator' | 'dataParallel' | 'microBatch' | 'extraSettings' | 'batchSize'> {
  /** Images per mixed batch. */
  batchSize: number;
  /** How each batch slot picks its task (see {@link TaskSampling}). Default `proportional`. */
  sampling?: TaskSampling;
  /** τ of `temperature` sampling. Default 2. */
  temperature?: number;
  /** Loss weight per task name (default 1 each; ≥ 0). */
  lossWeights?: Readonly<Record<string, number>>;
  /** Steps per epoch. Default ⌈Σ training images / batchSize⌉ (one epoch sees as many images as all tasks hold). */
  stepsPerEpoch?: number;
}

/** What {@link fitMultiTask} returns: `fit`'s result, the per-slot task probabilities, and the best evaluation's per-task metrics. */
export interface MultiTaskFitResult extends FitResult {
  /** Task name → probability of a batch slot. */
  probabilities: Record<string, number>;
  /** The best evaluation's metrics per task (its `top1` is their mean), null without validation data. */
  bestPerTask: Record<string, TaskMetrics> | null;
}

/**
 * Trains a multi-task model on mixed batches with `@vpeft/train`'s `fit`: each step's batch draws
 * its tasks by `sampling`, the loss is the task-weighted cross-entropy of {@link multiTaskGradients},
 * and each evaluation scores every task with validation data on its own head; the best epoch is the
 * one with the highest mean per-task top-1 (its weights are kept in `best/` and, with `restoreBest`,
 * loaded back). Checkpoints hold every task's modules (the multi-task adapter format) and the
 * sampling settings; a resumed run continues exactly as an uninterrupted one.
 */
export async function fitMultiTask(model: MultiTaskModel, data: MultiTaskData, options: MultiTaskFitOptions): Promise<MultiTaskFitResult> {
  const names = model.taskNames;
  const { batchSize, sampling = 'proportional', temperature = 2, lossWeights, stepsPerEpoch, ...rest } = options;
  checkTaskKeys(model, data.train ?? {}, 'train');
  for (const name of names) {
    const source = data.train[name];
    if (!source) throw new TaskError(`multitask: task "${name}" has no training data; give data.train.${name}`);
    if (!Number.isInteger(source.size) || source.size < 1) throw new TaskError(`multitask: task "${name}" has no training data (${source.size} images); every task needs at least one`);
  }
  if (data.val) checkTaskKeys(model, data.val, 'val');
  if (lossWeights) {
    checkTaskKeys(model, lossWeights, 'lossWeights');
    for (const [name, w] of Object.entries(lossWeights)) {
      if (!(typeof w === 'number' && w >= 0 && Number.isFinite(w))) throw new OptionError(`lossWeights.${name}`, w, 'a finite number >= 0', 'multitask');
    }
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OptionError('batchSize', batchSize, 'a positive integer', 'multitask');
  const sources = names.map((n) => data.train[n]!);
  const probabilities = taskProbabilities(sources.map((s) => s.size), sampling, temperature);
  const steps = stepsPerEpoch ?? Math.ceil(sources.reduce((n, s) => n + s.size, 0) / batchSize);
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError('stepsPerEpoch', steps, 'a positive integer', 'multitask');
  const weights = Object.fromEntries(names.map((n) => [n, lossWeights?.[n] ?? 1]));
  const val = data.val;
  const result = await fit(model, multiTaskTrainData(names, sources, { probabilities, batchSize, stepsPerEpoch: steps }), {
    ...rest,
    batchSize,
    extraSettings: { tasks: names.join(','), sampling, ...(sampling === 'temperature' ? { temperature } : {}), lossWeights: weights },
    stepGradients: (batch, { labelSmoothing }) => multiTaskGradients(model, batch, { labelSmoothing, lossWeights: weights }),
    ...(val && Object.keys(val).length ? { evaluator: () => evaluateTasks(model, val, rest.evalBatchSize) } : {}),
  });
  return {
    ...result,
    probabilities: Object.fromEntries(names.map((n, t) => [n, probabilities[t]!])),
    bestPerTask: result.best?.perTask ?? null,
  };
}

/**
 * Scores each task with data on its own single-task view (shared + its modules + its head): per-task
 * top-1, loss and per-class accuracy; `top1` and `loss` are the means over the scored tasks.
 */
export async function evaluateTasks(model: MultiTaskModel, data: Readonly<Record<string, EvalData>>, batchSize?: number): Promise<EvaluatorResult & { perTask: Record<string, TaskMetrics> }> {
  checkTaskKeys(model, data, 'val');
  const perTask: Record<string, TaskMetrics> = {};
  for (const name of model.taskNames) {
    const source = data[name];
    if (!source) continue;
    const r = await evaluate(model.task(name), source, { batchSize });
    perTask[name] = { top1: r.top1, loss: r.loss, perClass: r.perClass.map((a) => (Number.isNaN(a) ? null : a)) };
  }
  const scored = Object.values(perTask);
  const mean = (pick: (m: TaskMetrics) => number) => scored.reduce((a, m) => a + pick(m), 0) / scored.length;
  return { top1: mean((m) => m.top1), loss: mean((m) => m.loss), perClass: [], perTask };
}

/** Throws when `record` names a task the model does not have. */
function checkTaskKeys(model: MultiTaskModel, record: object, what: string): void {
  for (const key of Object.keys(record)) {
    if (!model.taskNames.includes(key)) throw new TaskError(`multitask: ${what} names the task "${key}", which the model does not have; its tasks: ${model.taskNames.join(', ')}`);
  }
}
