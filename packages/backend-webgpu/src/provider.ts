import { registerBackendProvider, type PreparedBackend } from '@vpeft/core';
import { describeAdapter, findGpu, type WebGpuAdapterInfo } from './gpu';

let adapter: WebGpuAdapterInfo | undefined;
let preparing: Promise<PreparedBackend | undefined> | undefined;

/** The adapter the `webgpu` backend runs on, once {@link prepareWebGpu} found one. */
export function webGpuAdapter(): WebGpuAdapterInfo | undefined {
  return adapter;
}

/**
 * Finds a WebGPU adapter and registers TensorFlow.js's `webgpu` backend (its module checks
 * `navigator.gpu` when imported, so it is imported only after the GPU is in place). Undefined when
 * there is no adapter. Software adapters are returned with `automatic: false`: `initBackend()` picks
 * them only when asked for `webgpu` explicitly (they are for correctness, not speed).
 */
export function prepareWebGpu(): Promise<PreparedBackend | undefined> {
  preparing ??= (async () => {
    const gpu = await findGpu();
    if (!gpu) return undefined;
    adapter = await describeAdapter(gpu);
    if (!adapter) return undefined;
    await import('@tensorflow/tfjs-backend-webgpu');
    return { device: `${adapter.description}${adapter.software ? ' (software)' : ''}`, automatic: !adapter.software };
  })();
  return preparing;
}

registerBackendProvider({ choice: 'webgpu', package: '@vpeft/backend-webgpu', tfBackend: 'webgpu', prepare: prepareWebGpu });
