import { VpeftError } from '@vpeft/core';

/**
 * The training loss became NaN or ±Infinity. The run stops before the optimizer applies that
 * step's update, so the model holds the weights of the last finite step and the last checkpoint
 * on disk is left as it was.
 */
export class NonFiniteLossError extends VpeftError {
  override name = 'NonFiniteLossError';
  constructor(
    /** The optimizer step (0-based) whose loss was not finite. */
    readonly step: number,
    /** The loss value (NaN, Infinity or -Infinity). */
    readonly loss: number,
    /** The epoch of that step. */
    readonly epoch: number,
  ) {
    super(
      `training loss is ${loss} at step ${step} (epoch ${epoch}); stopped before applying the update. ` +
        'Lower the learning rate, enable gradientClip, or check the data for NaN/Inf; the last good checkpoint is kept.',
    );
  }
}

/** A checkpoint that cannot be resumed from: missing, damaged, or written by a run with other settings. */
export class CheckpointError extends VpeftError {
  override name = 'CheckpointError';
}
