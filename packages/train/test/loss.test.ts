import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vpeft/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { smoothedCrossEntropySum } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

/** −Σ_k q_k log softmax(z)_k with q = (1−ε)·onehot + ε/K, summed over rows, in float64. */
function referenceLoss(logits: number[][], labels: number[], epsilon: number): number {
  let total = 0;
  logits.forEach((row, i) => {
    const max = Math.max(...row);
    const logSumExp = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
    row.forEach((z, k) => {
      const q = (k === labels[i] ? 1 - epsilon : 0) + epsilon / row.length;
      total -= q * (z - logSumExp);
    });
  });
  return total;
}

describe('label-smoothed cross-entropy', () => {
  const logits = [[2.0, -1.0, 0.5, 0.0], [0.1, 0.2, 3.0, -2.0], [-0.5, 1.5, 0.25, 4.0]];
  const labels = [0, 2, 1];

  it.each([0, 0.1, 0.3])('matches the formula with ε = %s', (epsilon) => {
    const loss = tf.tidy(() => smoothedCrossEntropySum(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), epsilon).dataSync()[0]!);
    expect(loss).toBeCloseTo(referenceLoss(logits, labels, epsilon), 5);
  });

  it('over the batch size equals tfjs softmaxCrossEntropy with labelSmoothing (an independent implementation)', () => {
    const [ours, theirs] = tf.tidy(() => {
      const z = tf.tensor2d(logits);
      const y = tf.tensor1d(labels, 'int32');
      return [
        smoothedCrossEntropySum(z, y, 0.1).dataSync()[0]! / 3,
        tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), z, undefined, 0.1).dataSync()[0]!,
      ];
    });
    expect(ours).toBeCloseTo(theirs!, 5);
  });
});
