import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '../errors/errors';
import type { TokenLayout, TokenSequence } from './site';

/**
 * Inserts `inserted` (`[B, k, D]`) into a token sequence: at the end of the prefix (`'prefix'`:
 * right before the patches, after CLS and earlier prefix tokens — VPT's `[CLS, P, patches]`) or at the
 * end of the sequence (`'suffix'`). Records the segment under `owner` and shifts the segments after it.
 */
export function insertTokens(sequence: TokenSequence, inserted: tf.Tensor3D, where: 'prefix' | 'suffix', owner: string): TokenSequence {
  const { tokens, layout } = sequence;
  const [batch, n, d] = tokens.shape;
  const k = inserted.shape[1];
  if (inserted.shape[0] !== batch || inserted.shape[2] !== d) {
    throw new VpeftError(`${owner}: inserted tokens [${inserted.shape.join(', ')}] do not fit a sequence [${tokens.shape.join(', ')}]`);
  }
  if (layout.segments?.[owner]) throw new VpeftError(`${owner}: tokens inserted twice into one sequence`);
  const at = where === 'prefix' ? layout.prefix : n;
  const parts = [tf.slice(tokens, [0, 0, 0], [batch, at, d]), inserted];
  if (at < n) parts.push(tf.slice(tokens, [0, at, 0], [batch, n - at, d]));
  const segments: Record<string, readonly [number, number]> = {};
  for (const [name, [start, length]] of Object.entries(layout.segments ?? {})) segments[name] = [start >= at ? start + k : start, length];
  segments[owner] = [at, k];
  const newLayout: TokenLayout = {
    ...layout,
    prefix: where === 'prefix' ? layout.prefix + k : layout.prefix,
    suffix: where === 'suffix' ? layout.suffix + k : layout.suffix,
    segments,
  };
  return { tokens: tf.concat(parts, 1) as tf.Tensor3D, layout: newLayout };
}

/**
 * Replaces the segment `owner` inserted earlier with `replacement` (`[B, k, D]`), e.g. deep prompts.
 * `k` may differ from the segment's length (NOAH's per-block prompt lengths): the segments after it
 * shift and the prefix or suffix count (whichever holds the segment) changes by the difference.
 */
export function replaceTokens(sequence: TokenSequence, replacement: tf.Tensor3D, owner: string): TokenSequence {
  const { tokens, layout } = sequence;
  const segment = layout.segments?.[owner];
  if (!segment) throw new VpeftError(`${owner}: no tokens of this owner in the sequence to replace (insert them at an earlier block first)`);
  const [start, length] = segment;
  const [batch, n, d] = tokens.shape;
  if (replacement.shape[0] !== batch || replacement.shape[2] !== d) {
    throw new VpeftError(`${owner}: replacement tokens [${replacement.shape.join(', ')}] do not fit a sequence [${tokens.shape.join(', ')}]`);
  }
  const k = replacement.shape[1];
  const parts = [];
  if (start > 0) parts.push(tf.slice(tokens, [0, 0, 0], [batch, start, d]));
  parts.push(replacement);
  if (start + length < n) parts.push(tf.slice(tokens, [0, start + length, 0], [batch, n - start - length, d]));
  const merged = tf.concat(parts, 1) as tf.Tensor3D;
  if (k === length) return { tokens: merged, layout };
  const segments: Record<string, readonly [number, number]> = {};
  for (const [name, [s0, len]] of Object.entries(layout.segments ?? {})) segments[name] = [s0 > start ? s0 + k - length : s0, len];
  segments[owner] = [start, k];
  const inPrefix = start < layout.prefix;
  const newLayout: TokenLayout = {
    ...layout,
    prefix: inPrefix ? layout.prefix + k - length : layout.prefix,
    suffix: inPrefix ? layout.suffix : layout.suffix + k - length,
    segments,
  };
  return { tokens: merged, layout: newLayout };
}
