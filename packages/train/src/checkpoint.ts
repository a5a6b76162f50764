import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, writeFileAtomic, type SafetensorsTensorInput } from '@vpeft/core';
import type { AdamW, AdamWState } from './adamw';
import { replaceDirectory, resolveCommittedDirectory } from './atomic-directory';
import type { TrainableModel } from './data';
import { CheckpointError } from './errors';
import type { EvaluationRecord, RunSettings, TrainerState } from './run-state';

export { settingsDifferences, type EvaluationRecord, type RunSettings, type TaskMetrics, type TrainerState } from './run-state';

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
