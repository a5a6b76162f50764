import { describe, expect, it } from 'vitest';
import { planEpoch, taskProbabilities } from '../src/index';

describe('task sampling', () => {
  it('gives the probabilities of the formulas: n_t/Σn, 1/T, n_t^(1/τ)/Σ n^(1/τ)', () => {
    // Hand-computed: sizes 100 and 400; τ = 2 → √100 = 10, √400 = 20 → 1/3, 2/3.
    expect(taskProbabilities([100, 400], 'proportional')).toEqual([0.2, 0.8]);
    expect(taskProbabilities([100, 400], 'uniform')).toEqual([0.5, 0.5]);
    const t2 = taskProbabilities([100, 400], 'temperature', 2);
    expect(t2[0]).toBeCloseTo(1 / 3, 12);
    expect(t2[1]).toBeCloseTo(2 / 3, 12);
    // τ = 1 is proportional; τ = 3 on 8 and 27 → cube roots 2 and 3 → 0.4, 0.6.
    expect(taskProbabilities([100, 400], 'temperature', 1).map((p) => +p.toFixed(12))).toEqual([0.2, 0.8]);
    expect(taskProbabilities([8, 27], 'temperature', 3).map((p) => +p.toFixed(12))).toEqual([0.4, 0.6]);
  });

  it('draws tasks with those probabilities (within 4 standard errors over 10,000 slots)', () => {
    const sizes = [100, 400];
    const probabilities = taskProbabilities(sizes, 'temperature', 2);
    const plan = planEpoch({ probabilities, sizes, batchSize: 100, stepsPerEpoch: 100, seed: 7, epoch: 0 });
    const draws = plan.flat();
    const share = draws.filter((s) => s.task === 0).length / draws.length;
    const se = Math.sqrt((probabilities[0]! * (1 - probabilities[0]!)) / draws.length);
    expect(Math.abs(share - 1 / 3)).toBeLessThan(4 * se);
  });

  it('visits every image of a task once before repeating one, and depends only on (seed, epoch)', () => {
    const sizes = [5, 7];
    const options = { probabilities: taskProbabilities(sizes, 'uniform'), sizes, batchSize: 4, stepsPerEpoch: 6, seed: 3, epoch: 1 };
    const plan = planEpoch(options);
    for (const task of [0, 1]) {
      const seen = plan.flat().filter((s) => s.task === task).map((s) => s.index);
      const n = sizes[task]!;
      for (let start = 0; start + n <= seen.length; start += n) expect(new Set(seen.slice(start, start + n)).size).toBe(n);
    }
    expect(planEpoch(options)).toEqual(plan);
    expect(planEpoch({ ...options, epoch: 2 })).not.toEqual(plan);
  });

  it('rejects an unknown sampling, a bad temperature and an empty task', () => {
    expect(() => taskProbabilities([1, 2], 'random' as never)).toThrow('proportional | uniform | temperature');
    expect(() => taskProbabilities([1, 2], 'temperature', 0)).toThrow('a finite number > 0');
    expect(() => taskProbabilities([1, 0], 'uniform')).toThrow('sizes[1]');
  });
});
