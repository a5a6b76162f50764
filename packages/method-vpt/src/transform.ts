import * as tf from '@tensorflow/tfjs-core';
import { dropout, insertTokens, replaceTokens, type TokenSequence, type Transform } from '@vpeft/core';
import type { VptOptions } from './options';

/** The prompts `[1, p, D]` broadcast to the batch, with prompt dropout in training. */
function batchPrompts(prompts: tf.Variable, batch: number, rate: number, training: boolean): tf.Tensor3D {
  const tiled = tf.tile(prompts, [batch, 1, 1]) as tf.Tensor3D;
  return dropout(tiled, rate, training);
}

/**
 * The transform at `blocks.{i}.tokens`. At the first prompted block the prompts are inserted (after the
 * prefix tokens, or at the end with `append`); at later blocks (deep) the same positions are replaced by
 * this block's own prompts. Position embeddings were added before, so prompts get none.
 */
export function promptTransform(owner: string, prompts: tf.Variable, insert: boolean, options: VptOptions): Transform<'tokens'> {
  return (sequence: TokenSequence, next, ctx): TokenSequence => {
    const batch = sequence.tokens.shape[0];
    const own = batchPrompts(prompts, batch, options.dropout, ctx.training);
    const updated = insert
      ? insertTokens(sequence, own, options.position === 'prepend' ? 'prefix' : 'suffix', owner)
      : replaceTokens(sequence, own, owner);
    return next(updated);
  };
}
