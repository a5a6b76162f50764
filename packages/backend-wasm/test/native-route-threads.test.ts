import { describe, expect, it, vi } from 'vitest';

// XNNPACK's thread count as tfjs-backend-wasm reports it, set per test (a throw: not initialised).
const threads = vi.hoisted(() => ({ count: (): number => 1 }));
vi.mock('@tensorflow/tfjs-backend-wasm', async (importActual) => ({
  ...(await importActual<typeof import('@tensorflow/tfjs-backend-wasm')>()),
  getThreadsCount: () => threads.count(),
}));

const { NATIVE_THIN_MAX, nativeProduct, planMatMul } = await import('../src/kernels/batch-matmul');

describe('native 2-D products and XNNPACK threads', () => {
  const thin = planMatMul([1576, 192], [192, NATIVE_THIN_MAX], false, false);
  const large = planMatMul([1576, 192], [192, 576], false, false);

  it('takes every 2-D product on one thread', () => {
    threads.count = () => 1;
    expect(nativeProduct(thin)).toBe(true);
    expect(nativeProduct(large)).toBe(true);
  });

  it('leaves large products to XNNPACK\'s threads and keeps thin ones (shortest side <= NATIVE_THIN_MAX)', () => {
    threads.count = () => 4;
    expect(nativeProduct(thin)).toBe(true);
    expect(nativeProduct(planMatMul([1576, 192], [192, NATIVE_THIN_MAX + 1], false, false))).toBe(false);
    expect(nativeProduct(large)).toBe(false);
  });

  it('treats an uninitialised backend (getThreadsCount throws) as threaded', () => {
    threads.count = () => {
      throw new Error('WASM backend not initialized.');
    };
    expect(nativeProduct(thin)).toBe(true);
    expect(nativeProduct(large)).toBe(false);
  });
});
