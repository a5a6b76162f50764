import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// Registers the `webgpu` choice with core's initBackend (it finds the browser's navigator.gpu).
import '@vpeft/backend-webgpu';
import { describeBackend, initBackend, type BackendChoice, type BackendInfo } from '@vpeft/core';

/** The backends a user can ask for; `auto` is webgpu (hardware adapter) > webgl > wasm > cpu. */
export const BACKEND_CHOICES: ReadonlyArray<BackendChoice | 'auto'> = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

// tfjs's wasm backend uses half the cores by default (one on a 2-core machine); the tab may use them all.
// It only has threads when the page is cross-origin isolated (the servers' COOP/COEP headers).
setThreadsCount(Math.max(1, navigator.hardwareConcurrency || 1));
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** What the page runs on, in words: the backend, and for wasm whether it is multi-threaded and why. */
export function describeRuntime(info: BackendInfo): string {
  if (info.tfBackend !== 'wasm') return describeBackend(info);
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = isolated ? getThreadsCount() : 1;
  return `${describeBackend({ ...info, threads })}; ${isolated ? 'cross-origin isolated' : 'not cross-origin isolated (no threads)'}`;
}

/** Selects the backend (`choice` as the user or `?backend=` asked). */
export function startBackend(choice: BackendChoice | 'auto'): Promise<BackendInfo> {
  return initBackend({ backend: choice });
}
