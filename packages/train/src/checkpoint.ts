import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, writeFileAtomic, type SafetensorsTensorInput } from '@vpeft/core';
import type { AdamW, AdamWState } from './adamw';
import { replaceDirectory, resolveCommittedDirectory } from './atomic-directory';
import type { TrainableModel } from './data';
import type { FitOptions } from './options';
import { CheckpointError } from './errors';
import type { ResolvedSchedule } from './schedule';

/** Directory (under `checkpointDir`) of the latest checkpoint: the adapter, optimizer state and trainer state. */
export const LAST_CHECKPOINT = 'last';
/** Directory (under `checkpointDir`) of the adapter with the best validation top-1. */
export const BEST_CHECKPOINT = 'best';
/** Optimizer moments: `m.<parameter>` and `v.<parameter>`, step count in the metadata. */
export const OPTIMIZER_STATE_FILE = 'optimizer.safetensors';
/** Step, epoch, schedule and run settings; written last, so its presence marks a complete checkpoint. */
export const TRAINER_STATE_FILE = 'trainer_state.json';
/** Validation metrics of the best adapter. */
export const BEST_METRICS_FILE = 'metrics.json';

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

/** Points inside a checkpoint save, for fault-injection tests: a hook that throws there aborts the save. */
export type CheckpointStage = 'adapter' | 'optimizer' | 'trainer-state';

/** Hooks called during a checkpoint save (tests inject faults with them). */
export interface CheckpointHooks {
  /** Called after each part is written into the new (not yet committed) checkpoint. */
  afterWrite?(stage: CheckpointStage, directory: string): void | Promise<void>;
}

/**
 * Saves `checkpointDir/last/` atomically (see {@link replaceDirectory}): the adapter
 * (`model.saveAdapter`, in the model's own format), the optimizer's moments and the trainer state, the state file last.
 * An interrupted save leaves the previous checkpoint loadable.
 */
export async function saveCheckpoint(checkpointDir: string, model: TrainableModel, optimizer: AdamW, state: TrainerState, hooks: CheckpointHooks = {}): Promise<void> {
  await replaceDirectory(checkpointDir, LAST_CHECKPOINT, async (dir) => {
    await model.saveAdapter(dir);
    await hooks.afterWrite?.('adapter', dir);
    const optimizerState = await optimizer.exportState();
    const tensors = new Map<string, SafetensorsTensorInput>();
    for (const [name, value] of optimizerState.firstMoments) tensors.set(`m.${name}`, value);
    for (const [name, value] of optimizerState.secondMoments) tensors.set(`v.${name}`, value);
    await writeFileAtomic(join(dir, OPTIMIZER_STATE_FILE), serializeSafetensors(tensors, { format: 'vpeft-adamw', step: String(optimizerState.step) }));
    await hooks.afterWrite?.('optimizer', dir);
    await writeFileAtomic(join(dir, TRAINER_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    await hooks.afterWrite?.('trainer-state', dir);
  });
}

/** Saves the best adapter and its metrics to `checkpointDir/best/`, atomically. */
export async function saveBestAdapter(checkpointDir: string, model: TrainableModel, record: EvaluationRecord): Promise<void> {
  await replaceDirectory(checkpointDir, BEST_CHECKPOINT, async (dir) => {
    await model.saveAdapter(dir);
    await writeFileAtomic(join(dir, BEST_METRICS_FILE), `${JSON.stringify(record, null, 2)}\n`);
  });
}

/** The committed `best/` adapter directory, if one was saved. */
export async function bestAdapterDirectory(checkpointDir: string): Promise<string | undefined> {
  return resolveCommittedDirectory(checkpointDir, BEST_CHECKPOINT, BEST_METRICS_FILE);
}

/** The committed `last/` checkpoint directory, if one was saved. */
export async function lastCheckpointDirectory(checkpointDir: string): Promise<string | undefined> {
  return resolveCommittedDirectory(checkpointDir, LAST_CHECKPOINT, TRAINER_STATE_FILE);
}

/** Reads and checks a checkpoint's trainer state. */
export async function readTrainerState(directory: string): Promise<TrainerState> {
  const file = join(directory, TRAINER_STATE_FILE);
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as TrainerState;
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the trainer state (${(error as Error).message})`);
  }
  if (state.format !== 'vpeft-trainer-state' || state.formatVersion !== 1) {
    throw new CheckpointError(`${file}: not a vpeft trainer state (format ${JSON.stringify(state.format)}, version ${JSON.stringify(state.formatVersion)})`);
  }
  return state;
}

/**
 * Loads the latest committed checkpoint under `checkpointDir` into `model` (adapter weights) and
 * `optimizer` (moments and step count) and returns its trainer state; undefined when there is none.
 */
export async function loadCheckpoint(checkpointDir: string, model: TrainableModel, optimizer: AdamW): Promise<TrainerState | undefined> {
  const directory = await lastCheckpointDirectory(checkpointDir);
  if (!directory) return undefined;
  const state = await readTrainerState(directory);
  await model.loadAdapter(directory);
  const file = join(directory, OPTIMIZER_STATE_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the optimizer state (${(error as Error).message})`);
  }
  const parsed = parseSafetensors(bytes, file);
  const optimizerState: AdamWState = { step: Number(parsed.metadata?.step ?? NaN), firstMoments: new Map(), secondMoments: new Map() };
  if (!Number.isInteger(optimizerState.step) || optimizerState.step !== state.step) {
    throw new CheckpointError(`${file}: optimizer step ${parsed.metadata?.step} does not match the trainer state's step ${state.step}`);
  }
  for (const [name, tensor] of parsed.tensors) {
    const target = name.startsWith('m.') ? optimizerState.firstMoments : name.startsWith('v.') ? optimizerState.secondMoments : undefined;
    if (!target) throw new CheckpointError(`${file}: unexpected tensor "${name}" (expected m.<parameter> or v.<parameter>)`);
    target.set(name.slice(2), { shape: tensor.shape, data: tensor.data });
  }
  optimizer.importState(optimizerState);
  return state;
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
