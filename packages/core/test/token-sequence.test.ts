import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, insertTokens, replaceTokens, type TokenSequence } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

// [CLS, 4 patches] with D = 1: token values are their original positions, so the order is visible.
function sequence(): TokenSequence {
  return { tokens: tf.tensor3d([[[0], [1], [2], [3], [4]]]), layout: { prefix: 1, suffix: 0, grid: [2, 2] } };
}
const fill = (k: number, value: number) => tf.fill([1, k, 1], value) as tf.Tensor3D;
const values = (s: TokenSequence) => Array.from(s.tokens.dataSync());

describe('replaceTokens', () => {
  it('replaces a segment with one of another length (NOAH per-block prompts) and keeps the layout current', () => {
    let s = insertTokens(sequence(), fill(2, 9), 'suffix', 'deep');
    s = insertTokens(s, fill(1, 7), 'prefix', 'shallow');
    expect(values(s)).toEqual([0, 7, 1, 2, 3, 4, 9, 9]);
    // Suffix segment 2 → 3 tokens: the suffix grows, nothing before it moves.
    s = replaceTokens(s, fill(3, 8), 'deep');
    expect(values(s)).toEqual([0, 7, 1, 2, 3, 4, 8, 8, 8]);
    expect(s.layout).toMatchObject({ prefix: 2, suffix: 3, segments: { shallow: [1, 1], deep: [6, 3] } });
    // Prefix segment 1 → 2 tokens: the prefix grows and the segments after it shift by one.
    s = replaceTokens(s, fill(2, 6), 'shallow');
    expect(values(s)).toEqual([0, 6, 6, 1, 2, 3, 4, 8, 8, 8]);
    expect(s.layout).toMatchObject({ prefix: 3, suffix: 3, segments: { shallow: [1, 2], deep: [7, 3] } });
    // Same length: values change, the layout object is kept.
    const same = replaceTokens(s, fill(3, 5), 'deep');
    expect(values(same)).toEqual([0, 6, 6, 1, 2, 3, 4, 5, 5, 5]);
    expect(same.layout).toBe(s.layout);
  });

  it('refuses an owner with no segment and tokens of another width', () => {
    expect(() => replaceTokens(sequence(), fill(1, 1), 'none')).toThrow(/none: no tokens of this owner/);
    const s = insertTokens(sequence(), fill(1, 1), 'suffix', 'p');
    expect(() => replaceTokens(s, tf.zeros([1, 1, 2]) as tf.Tensor3D, 'p')).toThrow(/do not fit a sequence/);
  });
});
