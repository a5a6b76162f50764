import * as tf from '@tensorflow/tfjs-core';
import { callKernel, release, view, type WasmBackend } from './kernel-utils';

/**
 * At most this many elements of transposed copies are kept per backend (64 MiB of float32, and as
 * much again of XNNPACK's packing of them): all of a ViT-Ti's or ViT-S's linear weights, part of a
 * ViT-B's. Beyond it a transposed operand is made and dropped per call, as before the cache.
 */
export const TRANSPOSED_CACHE_MAX_ELEMENTS = 2 ** 24;

interface Entry {
  /** The source's data id, to see when tfjs has freed it. */
  source: object;
  /** `[K, N]` the copy holds (the source seen as `[N, K]`). */
  signature: string;
  copy: tf.TensorInfo;
  elements: number;
}

interface Cache {
  entries: Map<object, Entry>;
  elements: number;
}

const caches = new WeakMap<WasmBackend, Cache>();

function cacheOf(backend: WasmBackend): Cache {
  let cache = caches.get(backend);
  if (cache === undefined) {
    cache = { entries: new Map(), elements: 0 };
    caches.set(backend, cache);
  }
  return cache;
}

/** Drops the copies whose source tfjs has freed (the wasm backend forgets a data id when it frees it). */
function sweep(backend: WasmBackend, cache: Cache): void {
  for (const [source, entry] of cache.entries) {
    if (backend.dataIdMap.has(source as tf.DataId)) continue;
    release(backend, entry.copy);
    cache.elements -= entry.elements;
    cache.entries.delete(source);
  }
}

/**
 * `b` `[N, K]` transposed to `[K, N]`, for XNNPACK's right operand of a product with `transposeB`
 * (a frozen weight's input gradient `dY·Wᵀ`). XNNPACK packs a right operand once per tensor id at
 * 15-50 ns per element, so the copy is kept, keyed by `b`'s data, and reused while that data lives:
 * a weight used in every backward pass is transposed and packed once instead of every time. Copies
 * of freed data are released on the next call. `owned`: the caller must release the result (the
 * cache was full).
 */
export function transposedOperand(backend: WasmBackend, b: tf.TensorInfo, n: number, k: number): { bt: tf.TensorInfo; owned: boolean } {
  const cache = cacheOf(backend);
  sweep(backend, cache);
  const signature = `${k}x${n}`;
  const hit = cache.entries.get(b.dataId);
  if (hit !== undefined && hit.signature === signature) return { bt: hit.copy, owned: false };
  const bt = callKernel('Transpose', backend, { x: view(b, [n, k]) }, { perm: [1, 0] });
  const elements = n * k;
  if (hit !== undefined || cache.elements + elements > TRANSPOSED_CACHE_MAX_ELEMENTS) return { bt, owned: true };
  cache.entries.set(b.dataId, { source: b.dataId, signature, copy: bt, elements });
  cache.elements += elements;
  return { bt, owned: false };
}

/** Releases every kept transposed copy of `backend` (tests and benchmarks; the cache also empties itself as sources are freed). */
export function clearTransposedOperands(backend: WasmBackend): void {
  const cache = caches.get(backend);
  if (cache === undefined) return;
  for (const entry of cache.entries.values()) release(backend, entry.copy);
  caches.delete(backend);
}

/** How many transposed copies `backend` keeps and their elements. */
export function transposedOperandsHeld(backend: WasmBackend): { copies: number; elements: number } {
  const cache = caches.get(backend);
  return { copies: cache?.entries.size ?? 0, elements: cache?.elements ?? 0 };
}
