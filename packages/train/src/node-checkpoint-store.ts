import { removeStaleTemporaries } from './atomic-directory';
import { bestAdapterDirectory, lastCheckpointDirectory, loadCheckpoint, saveBestAdapter, saveCheckpoint } from './checkpoint';
import { setCheckpointStore, type CheckpointStore } from './checkpoint-store';

/** Checkpoints as directories on disk, replaced atomically; installed when the Node entry is imported. */
export const fileCheckpointStore: CheckpointStore = {
  removeStaleTemporaries,
  loadCheckpoint,
  saveCheckpoint,
  saveBestAdapter,
  lastCheckpointDirectory,
  bestAdapterDirectory,
};

setCheckpointStore(fileCheckpointStore);
