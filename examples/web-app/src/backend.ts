import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// Registers the `webgpu` choice with core's initBackend (it finds the browser's navigator.gpu).
import { isSoftwareDevice, prepareWebGpu } from '@vpeft/backend-webgpu';
import { describeBackend, initBackend, type BackendChoice, type BackendInfo } from '@vpeft/core';
import { requestedWasmThreads, wasmThreads, withWasmThreads } from './wasm-threads';

/** The backends a user can ask for; `auto` is webgpu (hardware adapter) > webgl (hardware renderer) > wasm. */
export const BACKEND_CHOICES: ReadonlyArray<BackendChoice | 'auto'> = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** The renderer behind the page's WebGL (`WEBGL_debug_renderer_info`), undefined when there is no WebGL 2. */
export function webGlRenderer(): { renderer: string; software: boolean } | undefined {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return undefined;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { renderer, software: isSoftwareDevice(renderer) };
}

/**
 * What `auto` runs on here: WebGPU on a hardware adapter, else WebGL on a hardware renderer, else wasm.
 * Software GPUs (SwiftShader, llvmpipe) are slower than wasm, so they are used only when asked for.
 */
export async function autoBackend(): Promise<BackendChoice> {
  if ((await prepareWebGpu())?.automatic) return 'webgpu';
  const gl = webGlRenderer();
  return gl && !gl.software ? 'webgl' : 'wasm';
}

/** What the page runs on, in words: the backend and its device; for wasm its threads and why. */
export function describeRuntime(info: BackendInfo): string {
  if (info.tfBackend === 'webgl') {
    const gl = webGlRenderer();
    return describeBackend({ ...info, ...(gl ? { device: `${gl.renderer}${gl.software ? ' (software)' : ''}` } : {}) });
  }
  if (info.tfBackend !== 'wasm') return describeBackend(info);
  const isolation = globalThis.crossOriginIsolated
    ? 'cross-origin isolated'
    : 'not cross-origin isolated: no SharedArrayBuffer, so tfjs runs its single-threaded build';
  return `${describeBackend({ ...info, threads: wasmThreads() })}; ${isolation}`;
}

/**
 * Selects the backend (`choice` as the user or `?backend=` asked; `auto` as {@link autoBackend} says),
 * wasm with the threads `?threads=` asks for (default: tfjs's, half the cores; more than one needs
 * cross-origin isolation).
 */
export async function startBackend(choice: BackendChoice | 'auto'): Promise<BackendInfo> {
  const backend = choice === 'auto' ? await autoBackend() : choice;
  return withWasmThreads(requestedWasmThreads(), () => initBackend({ backend }));
}
