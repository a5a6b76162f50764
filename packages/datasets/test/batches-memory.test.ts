// Decode concurrency and read-ahead stay bounded however large the split is.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';

const counters = { active: 0, maxActive: 0, started: 0 };
vi.mock('../src/decode.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/decode.js')>();
  return {
    ...actual,
    decodeImage: async (...args: Parameters<typeof actual.decodeImage>) => {
      counters.started++;
      counters.active++;
      counters.maxActive = Math.max(counters.maxActive, counters.active);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return await actual.decodeImage(...args);
      } finally {
        counters.active--;
      }
    },
  };
});

const { batches, vtabTransform } = await import('../src/index.js');

describe('batches memory bound', () => {
  it('decodes at most `concurrency` at once and reads at most concurrency + prefetch * batchSize ahead', async () => {
    const size = 5000;
    const pixels = new Uint8Array(4).fill(9);
    const dataset = {
      name: 'big',
      split: 'all',
      numClasses: 2,
      classNames: ['a', 'b'],
      samples: Array.from({ length: size }, (_, i) => ({ source: { data: pixels, width: 2, height: 2, channels: 1 as const }, label: i % 2 })),
      skipped: [],
      pipeline: 'vtab' as const,
    };
    const it = batches(dataset, { batchSize: 8, concurrency: 3, prefetch: 2, transform: vtabTransform({ size: 2 }) });
    for (let k = 0; k < 5; k++) {
      const { value } = await it.next();
      if (value) tf.dispose([value.x, value.y]);
      await new Promise((resolve) => setTimeout(resolve, 20)); // let read-ahead run while "training"
      expect(counters.started).toBeLessThanOrEqual((k + 1) * 8 + 3 + 2 * 8);
    }
    expect(counters.maxActive).toBeLessThanOrEqual(3);
    expect(counters.maxActive).toBeGreaterThan(1);
    await it.return();
  });
});
