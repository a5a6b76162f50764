import { OptionError } from '@vpeft/core';
import { mixSeed, mulberry32, permutation } from '@vpeft/datasets';

/**
 * How the tasks of a mixed batch are drawn: each batch slot picks task t with probability
 * - `proportional`: p_t = n_t / Σ n (every training image equally often),
 * - `uniform`: p_t = 1 / T (every task equally often),
 * - `temperature`: p_t = n_t^(1/τ) / Σ n^(1/τ) (τ = 1 is proportional, τ → ∞ uniform).
 */
export type TaskSampling = 'proportional' | 'uniform' | 'temperature';

/** The sampling names, for messages and the command line. */
export const TASK_SAMPLINGS: readonly TaskSampling[] = ['proportional', 'uniform', 'temperature'];

/** The probability of each task per batch slot (see {@link TaskSampling}); `sizes[t]` is task t's training images. */
export function taskProbabilities(sizes: readonly number[], sampling: TaskSampling, temperature = 2): number[] {
  if (!TASK_SAMPLINGS.includes(sampling)) throw new OptionError('sampling', sampling, TASK_SAMPLINGS.join(' | '), 'multitask');
  if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) {
    throw new OptionError('temperature', temperature, 'a finite number > 0', 'multitask');
  }
  sizes.forEach((n, t) => {
    if (!Number.isInteger(n) || n < 1) throw new OptionError(`sizes[${t}]`, n, 'a positive integer (training images of the task)', 'multitask');
  });
  const weights = sizes.map((n) => (sampling === 'uniform' ? 1 : sampling === 'proportional' ? n : n ** (1 / temperature)));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** One slot of a planned batch: a task (index into the task list) and one of its training images. */
export interface PlannedSample {
  task: number;
  index: number;
}

/** What {@link planEpoch} needs. */
export interface EpochPlanOptions {
  /** Per-slot task probabilities ({@link taskProbabilities}). */
  probabilities: readonly number[];
  /** Training images per task. */
  sizes: readonly number[];
  batchSize: number;
  stepsPerEpoch: number;
  seed: number;
  epoch: number;
}

/**
 * The batches of one epoch: each slot draws its task from `probabilities`, then takes the next image
 * of that task's stream (a fresh seeded permutation of the task's images each time the stream wraps).
 * A pure function of `(seed, epoch)` and the options, so a resumed run re-plans the same epoch.
 */
export function planEpoch(options: EpochPlanOptions): PlannedSample[][] {
  const { probabilities, sizes, batchSize, stepsPerEpoch, seed, epoch } = options;
  const random = mulberry32(mixSeed(seed, epoch, 0x7a5c));
  let sum = 0;
  const cumulative = probabilities.map((p) => (sum += p));
  const cursors = sizes.map(() => 0);
  const orders: Int32Array[] = sizes.map(() => new Int32Array(0));
  const next = (task: number): number => {
    const n = sizes[task]!;
    const c = cursors[task]!++;
    if (c % n === 0) orders[task] = permutation(n, mixSeed(seed, epoch, task, c / n));
    return orders[task]![c % n]!;
  };
  const steps: PlannedSample[][] = [];
  for (let s = 0; s < stepsPerEpoch; s++) {
    const batch: PlannedSample[] = [];
    for (let i = 0; i < batchSize; i++) {
      const u = random();
      let task = cumulative.findIndex((c) => u < c);
      if (task < 0) task = probabilities.length - 1;
      batch.push({ task, index: next(task) });
    }
    steps.push(batch);
  }
  return steps;
}
