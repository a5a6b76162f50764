import { describe, expect, it } from 'vitest';
import { BENCHMARK_SCHEDULE, learningRateAt, resolveSchedule } from '../src/index';

describe('learning-rate schedule', () => {
  // The benchmark recipe: 100 epochs, 10 warm-up epochs from 1e-6, cosine down to 1e-5; lr 5e-3; 5 steps per epoch.
  const lr = 5e-3;
  const schedule = resolveSchedule(BENCHMARK_SCHEDULE, lr, 100, 5);
  const warmupSteps = 50;
  const totalSteps = 500;

  it('resolves to steps', () => {
    expect(schedule).toMatchObject({ warmupSteps, totalSteps, warmupStartLr: 1e-6, minLr: 1e-5, baseLr: lr });
  });

  it('warms up linearly from warmupStartLr to lr', () => {
    expect(learningRateAt(schedule, 0)).toBeCloseTo(1e-6, 15);
    expect(learningRateAt(schedule, 25)).toBeCloseTo((1e-6 + 5e-3) / 2, 15);
    expect(learningRateAt(schedule, 10)).toBeCloseTo(1e-6 + (5e-3 - 1e-6) * 0.2, 15);
    expect(learningRateAt(schedule, 50)).toBeCloseTo(5e-3, 15);
  });

  it('decays on a half cosine from lr to minLr after warm-up', () => {
    // Half-way through the decay cos(π/2) = 0: the mean of lr and minLr.
    expect(learningRateAt(schedule, 50 + 225)).toBeCloseTo((5e-3 + 1e-5) / 2, 15);
    // A quarter of the way: cos(π/4) = √2/2.
    expect(learningRateAt(schedule, 50 + 112.5)).toBeCloseTo(1e-5 + 0.5 * (5e-3 - 1e-5) * (1 + Math.SQRT1_2), 15);
    // The last step sits one step short of the end of the period.
    expect(learningRateAt(schedule, 499)).toBeCloseTo(1e-5 + 0.5 * (5e-3 - 1e-5) * (1 + Math.cos(Math.PI * (449 / 450))), 15);
    expect(learningRateAt(schedule, 500)).toBeCloseTo(1e-5, 15);
  });

  it('is monotone: rising through warm-up, falling after', () => {
    const values = Array.from({ length: totalSteps }, (_, s) => learningRateAt(schedule, s));
    for (let s = 1; s <= warmupSteps; s++) expect(values[s]!).toBeGreaterThan(values[s - 1]!);
    for (let s = warmupSteps + 1; s < totalSteps; s++) expect(values[s]!).toBeLessThan(values[s - 1]!);
  });

  it('constant schedules hold lr after warm-up; fractional warm-up rounds to steps', () => {
    const constant = resolveSchedule({ type: 'constant', warmupEpochs: 0.5 }, 0.1, 3, 4);
    expect(constant.warmupSteps).toBe(2);
    expect(learningRateAt(constant, 1)).toBeCloseTo(0.05, 15);
    expect(learningRateAt(constant, 7)).toBe(0.1);
  });

  it('rejects warm-up longer than the run and negative rates', () => {
    expect(() => resolveSchedule({ type: 'cosine', warmupEpochs: 11 }, 0.1, 10, 4)).toThrow(/warmupEpochs.*11/);
    expect(() => resolveSchedule({ type: 'cosine', minLr: -1 }, 0.1, 10, 4)).toThrow(/minLr/);
    expect(() => resolveSchedule({ type: 'linear' as 'cosine' }, 0.1, 10, 4)).toThrow(/schedule.type/);
  });
});
