import { describe, expect, it } from 'vitest';
import { apportion, vtab1kStyleSplit } from '../src/index.js';

function labelsFor(sizes: number[]): number[] {
  return sizes.flatMap((n, c) => new Array<number>(n).fill(c));
}

function countBy(indices: Int32Array, labels: number[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const i of indices) counts[labels[i]]++;
  return counts;
}

describe('vtab1kStyleSplit', () => {
  const sizes = [1, 2, 3, 10, 500, 1500];
  const labels = labelsFor(sizes);
  const split = vtab1kStyleSplit(labels, sizes.length, 42);

  it('has 800 / 200 / 1000 images and test = everything else, all disjoint', () => {
    expect(split.train800.length).toBe(800);
    expect(split.val200.length).toBe(200);
    expect(Array.from(split.train800val200)).toEqual([...split.train800, ...split.val200].sort((a, b) => a - b));
    expect(split.test.length).toBe(labels.length - 1000);
    const all = [...split.train800val200, ...split.test].sort((a, b) => a - b);
    expect(all).toEqual(labels.map((_, i) => i));
  });

  it('keeps rare classes: at least one train image each, and a test image when there are two or more', () => {
    const train = countBy(split.train800, labels, sizes.length);
    const test = countBy(split.test, labels, sizes.length);
    expect(train.every((n) => n >= 1)).toBe(true);
    expect(test.slice(0, 3)).toEqual([0, 1, expect.any(Number)]);
    expect(test.slice(1).every((n) => n >= 1)).toBe(true);
    // Roughly proportional for the big classes (1000 * 1500 / 2016 ≈ 744 in train+val).
    expect(train[5] + countBy(split.val200, labels, sizes.length)[5]).toBeGreaterThan(730);
  });

  it('is deterministic by seed', () => {
    expect(vtab1kStyleSplit(labels, sizes.length, 42)).toEqual(split);
    expect(Array.from(vtab1kStyleSplit(labels, sizes.length, 43).train800)).not.toEqual(Array.from(split.train800));
  });

  it('refuses a pool too small for train + val + one test image', () => {
    expect(() => vtab1kStyleSplit(labelsFor([500, 500]), 2, 1)).toThrowError(/fewer than the 1000 images available/);
    expect(vtab1kStyleSplit(labelsFor([5, 6]), 2, 1, { train: 6, val: 2 }).test.length).toBe(3);
  });

  it('apportions by largest remainder within bounds', () => {
    expect(apportion(10, [1, 1, 1], [0, 0, 0], [10, 10, 10])).toEqual([4, 3, 3]);
    expect(apportion(5, [100, 1], [1, 1], [100, 1])).toEqual([4, 1]);
    expect(() => apportion(5, [1, 1], [0, 0], [2, 2])).toThrowError(/between 0 and 4/);
  });
});
