import * as tf from '@tensorflow/tfjs-core';
import { initBackend, mulberry32 } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseUp, groupedUp, repAdapter } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe("RepAdapter's grouped up projection", () => {
  it("matches PyTorch's grouped 1x1 conv definition (plain JS), dense too", () => {
    const [groups, hidden, d, rows] = [3, 6, 9, 4];
    const hg = hidden / groups;
    const dg = d / groups;
    const random = mulberry32(5);
    // torch conv_B.weight [D, h/g]; vpeft stores [g, h/g, D/g] with up[i][j][o] = torch[i·dg + o][j].
    const torchWeight = Array.from({ length: d }, () => Array.from({ length: hg }, () => random() * 2 - 1));
    const h = Array.from({ length: rows }, () => Array.from({ length: hidden }, () => random() * 2 - 1));
    const want = h.map((row) =>
      Array.from({ length: d }, (_, o) => {
        const g = Math.floor(o / dg);
        let sum = 0;
        for (let j = 0; j < hg; j++) sum += torchWeight[o]![j]! * row[g * hg + j]!;
        return sum;
      }),
    );
    const up = tf.tensor3d(Array.from({ length: groups }, (_, i) => Array.from({ length: hg }, (_, j) => Array.from({ length: dg }, (_, o) => torchWeight[i * dg + o]![j]!))));
    const x = tf.tensor2d(h);
    const grouped = groupedUp(x, up);
    const dense = tf.matMul(x, denseUp(up));
    expect(maxAbsDiff(grouped.dataSync(), want.flat())).toBeLessThan(1e-5);
    expect(maxAbsDiff(dense.dataSync(), want.flat())).toBeLessThan(1e-5);
    tf.dispose([up, x, grouped, dense]);
  });

  it('rejects hidden not divisible by groups, naming both', () => {
    expect(() => repAdapter({ hidden: 6, groups: 4 })).toThrow(/hidden.*divisible by groups \(4\)/);
  });
});
