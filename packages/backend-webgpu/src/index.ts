/**
 * @vpeft/backend-webgpu — vpeft on the GPU through WebGPU: in a browser tab, and in Node through Dawn
 * (the npm `webgpu` package). Importing it registers the `webgpu` choice with `@vpeft/core`'s
 * `initBackend()`: `auto` then prefers it over wasm when a hardware adapter is found; a software
 * adapter (SwiftShader, lavapipe) is used only for `initBackend({ backend: 'webgpu' })` or
 * `VPEFT_BACKEND=webgpu`.
 *
 * On webgpu, read tensors with `await tensor.data()`: synchronous reads (`dataSync`) need an
 * `OffscreenCanvas`, which Node lacks.
 */
export { prepareWebGpu, webGpuAdapter } from './provider';
export { findGpu, describeAdapter, isSoftwareDevice, type WebGpuAdapterInfo } from './gpu';
