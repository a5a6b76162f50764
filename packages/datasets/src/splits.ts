import { DatasetOptionError } from './errors.js';
import { mixSeed, mulberry32, shuffleInPlace } from './random.js';

/** Index sets (into a pool of labelled items) of a VTAB-1k-style split. Each sorted ascending. */
export interface Vtab1kStyleSplits {
  readonly train800: Int32Array;
  readonly val200: Int32Array;
  /** `train800 ∪ val200`. */
  readonly train800val200: Int32Array;
  /** Every item not in `train800val200`. */
  readonly test: Int32Array;
}

/** Sizes of the train and val parts. Defaults 800 and 200, as VTAB-1k. */
export interface SplitSizes {
  readonly train?: number;
  readonly val?: number;
}

/**
 * Largest-remainder apportionment of `total` over classes in proportion to `weights`, with each
 * class kept within `[min[c], max[c]]`. Ties go to the lower class index (deterministic).
 */
export function apportion(total: number, weights: readonly number[], min: readonly number[], max: readonly number[]): number[] {
  const sumWeights = weights.reduce((a, b) => a + b, 0);
  const quota = weights.map((w) => (sumWeights > 0 ? (w * total) / sumWeights : 0));
  const alloc = quota.map((q, c) => Math.min(max[c], Math.max(min[c], Math.floor(q))));
  let diff = total - alloc.reduce((a, b) => a + b, 0);
  while (diff !== 0) {
    let best = -1;
    for (let c = 0; c < alloc.length; c++) {
      if (diff > 0 ? alloc[c] >= max[c] : alloc[c] <= min[c]) continue;
      const gap = quota[c] - alloc[c];
      if (best < 0 || (diff > 0 ? gap > quota[best] - alloc[best] : gap < quota[best] - alloc[best])) best = c;
    }
    if (best < 0) throw new DatasetOptionError('split sizes', total, `a total between ${min.reduce((a, b) => a + b, 0)} and ${max.reduce((a, b) => a + b, 0)} for these class sizes`);
    alloc[best] += diff > 0 ? 1 : -1;
    diff += diff > 0 ? -1 : 1;
  }
  return alloc;
}

/**
 * Splits a labelled pool the way VTAB-1k is shaped — 800 train, 200 val, their 1000-image union,
 * and a test set — deterministically from `seed`, stratified by class so rare classes survive:
 *
 * - train+val (1000) is apportioned to classes in proportion to their size (largest remainder),
 *   giving every class at least one image and, when it has two or more, leaving at least one for test;
 *   a class with a single image puts it in train (it then has no test image);
 * - val (200) is apportioned the same way within train+val, keeping at least one train image per class;
 * - test is every remaining image (the pool minus train800val200), as VTAB's test is the full test set.
 *
 * Which images of a class go where is a seeded shuffle (mulberry32) of that class.
 */
export function vtab1kStyleSplit(labels: ArrayLike<number>, numClasses: number, seed: number, sizes: SplitSizes = {}): Vtab1kStyleSplits {
  const trainSize = sizes.train ?? 800;
  const valSize = sizes.val ?? 200;
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const random = mulberry32(mixSeed(seed, 0x5b1d));
  for (const members of byClass) shuffleInPlace(members, random);
  const sizesByClass = byClass.map((m) => m.length);
  if (trainSize + valSize >= labels.length) {
    throw new DatasetOptionError('split sizes', `${trainSize}+${valSize}`, `fewer than the ${labels.length} images available (test needs at least one)`);
  }
  const trainVal = apportion(
    trainSize + valSize,
    sizesByClass,
    sizesByClass.map((n) => (n > 0 ? 1 : 0)),
    sizesByClass.map((n) => (n >= 2 ? n - 1 : n)),
  );
  const val = apportion(
    valSize,
    trainVal,
    trainVal.map(() => 0),
    trainVal.map((n) => Math.max(0, n - 1)),
  );
  const train: number[] = [];
  const valIdx: number[] = [];
  const test: number[] = [];
  byClass.forEach((members, c) => {
    const nTrain = trainVal[c] - val[c];
    train.push(...members.slice(0, nTrain));
    valIdx.push(...members.slice(nTrain, trainVal[c]));
    test.push(...members.slice(trainVal[c]));
  });
  const sorted = (xs: number[]) => Int32Array.from(xs).sort();
  return { train800: sorted(train), val200: sorted(valIdx), train800val200: sorted([...train, ...valIdx]), test: sorted(test) };
}
