import type { FitOptions } from './options';
import type { ResolvedSchedule } from './schedule';

/** The settings that fix a run's trajectory; a resumed run must use the same ones. */
export interface RunSettings {
  seed: number;
  epochs: number;
  stepsPerEpoch: number;
  labelSmoothing: number;
  gradientClip: number | null;
  optimizer: { learningRate: number; weightDecay: number; beta1: number; beta2: number; epsilon: number };
  schedule: ResolvedSchedule;
  /** {@link FitOptions.extraSettings}, when given. */
  extra?: Record<string, unknown>;
}

/** One evaluation during training. */
export interface EvaluationRecord {
  epoch: number;
  step: number;
  top1: number;
  loss: number;
  /** Accuracy per class id; null for classes without validation images. */
  perClass: Array<number | null>;
  /** Metrics per task, when a multi-task evaluator scored the run (`top1` is then their mean). */
  perTask?: Record<string, TaskMetrics>;
}

/** One task's validation metrics in a multi-task evaluation. */
export interface TaskMetrics {
  top1: number;
  loss: number;
  /** Accuracy per class id of the task; null for classes without validation images. */
  perClass: Array<number | null>;
}

/** Where training stands: enough to continue exactly where it stopped. */
export interface TrainerState {
  format: 'vpeft-trainer-state';
  formatVersion: 1;
  /** Optimizer steps completed. */
  step: number;
  /** Epoch the next step belongs to. */
  epoch: number;
  /** Batches of `epoch` already trained on (skipped when resuming). */
  batchesDoneInEpoch: number;
  /** Loss of the last completed step. */
  lastLoss: number | null;
  settings: RunSettings;
  /** Best validation result so far (`best/` holds its adapter). */
  best: EvaluationRecord | null;
  evaluations: EvaluationRecord[];
}

/** Names the settings that differ between a checkpoint and the resuming run; empty when they match. */
export function settingsDifferences(saved: RunSettings, current: RunSettings): string[] {
  const flat = (value: unknown, prefix: string, out: Map<string, string>): Map<string, string> => {
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) flat(v, prefix ? `${prefix}.${k}` : k, out);
    } else {
      out.set(prefix, JSON.stringify(value));
    }
    return out;
  };
  const a = flat(saved, '', new Map());
  const b = flat(current, '', new Map());
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? 'absent'} (checkpoint) vs ${b.get(k) ?? 'absent'} (now)`);
}
