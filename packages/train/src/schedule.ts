import { OptionError } from '@vpeft/core';

/**
 * Learning-rate schedule, evaluated per optimizer step. Warm-up (if any) is linear from
 * `warmupStartLr` to the base learning rate over `warmupEpochs`; then
 * - `cosine`: half a cosine period from the base rate down to `minLr` at the last step;
 * - `constant`: the base rate.
 */
export interface ScheduleOptions {
  type: 'cosine' | 'constant';
  /** Epochs of linear warm-up (may be fractional). Default 0. */
  warmupEpochs?: number;
  /** Learning rate at step 0 of warm-up. Default 0. */
  warmupStartLr?: number;
  /** Final learning rate of the cosine decay. Default 0. */
  minLr?: number;
}

/** A fully specified schedule (defaults applied) together with the run's length in steps. */
export interface ResolvedSchedule {
  type: 'cosine' | 'constant';
  baseLr: number;
  warmupStartLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** The benchmark recipe (V-PEFT Bench): 10 warm-up epochs from 1e-6, cosine down to 1e-5. */
export const BENCHMARK_SCHEDULE: Readonly<ScheduleOptions> = Object.freeze({ type: 'cosine', warmupEpochs: 10, warmupStartLr: 1e-6, minLr: 1e-5 });

/** Applies defaults and validates a schedule for a run of `epochs × stepsPerEpoch` steps. */
export function resolveSchedule(options: ScheduleOptions, baseLr: number, epochs: number, stepsPerEpoch: number): ResolvedSchedule {
  if (options.type !== 'cosine' && options.type !== 'constant') throw new OptionError('schedule.type', options.type, '"cosine" or "constant"', 'fit');
  const warmupEpochs = options.warmupEpochs ?? 0;
  if (!(warmupEpochs >= 0) || !Number.isFinite(warmupEpochs) || warmupEpochs > epochs) {
    throw new OptionError('schedule.warmupEpochs', warmupEpochs, `a number in [0, epochs = ${epochs}]`, 'fit');
  }
  const warmupStartLr = options.warmupStartLr ?? 0;
  const minLr = options.minLr ?? 0;
  for (const [name, value] of [['schedule.warmupStartLr', warmupStartLr], ['schedule.minLr', minLr]] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) throw new OptionError(name, value, 'a finite number >= 0', 'fit');
  }
  return {
    type: options.type,
    baseLr,
    warmupStartLr,
    minLr,
    warmupSteps: Math.round(warmupEpochs * stepsPerEpoch),
    totalSteps: epochs * stepsPerEpoch,
  };
}

/**
 * The learning rate of optimizer step `step` (0-based):
 * warm-up `warmupStartLr + (baseLr − warmupStartLr)·step / warmupSteps` for `step < warmupSteps`, then
 * cosine `minLr + ½(baseLr − minLr)(1 + cos(π·(step − warmupSteps) / (totalSteps − warmupSteps)))`.
 */
export function learningRateAt(schedule: ResolvedSchedule, step: number): number {
  const { baseLr, warmupStartLr, minLr, warmupSteps, totalSteps } = schedule;
  if (step < warmupSteps) return warmupStartLr + ((baseLr - warmupStartLr) * step) / warmupSteps;
  if (schedule.type === 'constant') return baseLr;
  const decaySteps = totalSteps - warmupSteps;
  if (decaySteps <= 0) return baseLr;
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
}
