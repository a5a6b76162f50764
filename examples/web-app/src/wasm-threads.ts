import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** Pthread workers tfjs-backend-wasm 4.22's threaded build pre-creates: the most threads it can run. */
export const MAX_WASM_THREADS = 8;

/**
 * tfjs's own default: half the logical cores (`navigator.hardwareConcurrency`), at least 1, at most
 * {@link MAX_WASM_THREADS}. Kept as the page's default because more threads were measured slower here:
 * on a 2-core machine shared with other jobs, 2 threads trained the MNIST ViT 4-5x slower than 1 (a
 * tiny model's many small ops, each a thread-pool round trip, wait on a thread the OS has parked).
 */
export function defaultWasmThreads(cores: number = navigator.hardwareConcurrency || 1): number {
  return Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(cores / 2)));
}

/** The wasm threads the page asks for: `?threads=N` (1 to {@link MAX_WASM_THREADS}), else {@link defaultWasmThreads}. */
export function requestedWasmThreads(search: string = location.search): number {
  const raw = new URLSearchParams(search).get('threads');
  if (raw === null) return defaultWasmThreads();
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(`?threads=${raw}: expected a whole number of wasm threads from 1 to ${MAX_WASM_THREADS}`);
  }
  return threads;
}

/**
 * Runs `start` (which initialises the wasm backend) so that tfjs's wasm thread pool gets `threads`
 * threads. tfjs-backend-wasm 4.22 caps the pool at half of `navigator.hardwareConcurrency` whatever
 * `setThreadsCount` asks (its backend.cc assumes two hyper-threads per core), so on a 2-core machine
 * it could not run more than one thread even when the page is cross-origin isolated. The wasm module reads the core count
 * once, while it instantiates; for that while the page reports `2 * threads` cores, then its own again.
 * Without cross-origin isolation tfjs loads its single-threaded build and this changes nothing.
 */
export async function withWasmThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  setThreadsCount(threads);
  const own = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  try {
    return await start();
  } finally {
    if (own) Object.defineProperty(navigator, 'hardwareConcurrency', own);
    else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/** The threads tfjs's wasm backend computes on (its XNNPACK pool, as tfjs reports it), once it is up. */
export function wasmThreads(): number {
  return getThreadsCount();
}
