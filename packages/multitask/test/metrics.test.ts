import { describe, expect, it } from 'vitest';
import { deltaM } from '../src/index';

describe('deltaM', () => {
  it('is the mean relative change in % (hand-computed)', () => {
    // digits: (0.95 − 0.90)/0.90 = +5.5556 %; emoji: (0.72 − 0.80)/0.80 = −10 %; mean = −2.2222 %.
    expect(deltaM({ digits: 0.95, emoji: 0.72 }, { digits: 0.9, emoji: 0.8 })).toBeCloseTo((100 * (0.05 / 0.9 - 0.1)) / 2, 10);
    expect(deltaM({ digits: 0.95, emoji: 0.72 }, { digits: 0.9, emoji: 0.8 })).toBeCloseTo(-2.2222222, 6);
    // A lower-is-better metric flips its sign: error 0.08 vs 0.10 → +20 %.
    expect(deltaM({ err: 0.08 }, { err: 0.1 }, ['err'])).toBeCloseTo(20, 10);
  });

  it('needs a single-task result for every task', () => {
    expect(() => deltaM({ digits: 0.9, emoji: 0.7 }, { digits: 0.9 })).toThrow('no single-task result for task "emoji"; results given for: digits');
    expect(() => deltaM({ digits: 0.9 }, { digits: 0 })).toThrow('non-zero single-task');
  });
});
