import { VpeftError } from '@vpeft/core';
import type { AdamW } from './adamw';
import type { CheckpointHooks } from './checkpoint';
import type { TrainableModel } from './data';
import type { EvaluationRecord, TrainerState } from './run-state';

/**
 * What {@link fit} does with `checkpointDir`: atomic checkpoints on disk. `@vpeft/train`'s Node entry
 * installs the file-system store on import; the browser entry has none, so a browser bundle holds no
 * `node:` module and `fit` there runs without `checkpointDir` (it keeps the best weights in memory).
 */
export interface CheckpointStore {
  removeStaleTemporaries(checkpointDir: string): Promise<void>;
  loadCheckpoint(checkpointDir: string, model: TrainableModel, optimizer: AdamW): Promise<TrainerState | undefined>;
  saveCheckpoint(checkpointDir: string, model: TrainableModel, optimizer: AdamW, state: TrainerState, hooks?: CheckpointHooks): Promise<void>;
  saveBestAdapter(checkpointDir: string, model: TrainableModel, record: EvaluationRecord): Promise<void>;
  lastCheckpointDirectory(checkpointDir: string): Promise<string | undefined>;
  bestAdapterDirectory(checkpointDir: string): Promise<string | undefined>;
}

// On globalThis so that two installed copies of the package (ESM and CJS builds) share one.
const KEY = Symbol.for('@vpeft/train/checkpoint-store');
const scope = globalThis as unknown as Record<symbol, CheckpointStore | undefined>;

/** Installs the store `fit({ checkpointDir })` uses (the Node entry installs the file-system one). */
export function setCheckpointStore(store: CheckpointStore | undefined): void {
  scope[KEY] = store;
}

/** The installed store; throws saying what to do when there is none (a browser bundle). */
export function checkpointStore(): CheckpointStore {
  const store = scope[KEY];
  if (!store) {
    throw new VpeftError('fit: checkpointDir needs a checkpoint store, which this environment has none of (a browser bundle of @vpeft/train); leave checkpointDir out, or install one with setCheckpointStore()');
  }
  return store;
}
