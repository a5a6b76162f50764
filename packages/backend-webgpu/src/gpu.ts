/** The WebGPU entry point (`navigator.gpu`) and the adapter it offers. */

/** What vpeft reads of a WebGPU adapter (`GPUAdapter.info`). */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A CPU implementation (SwiftShader, lavapipe/llvmpipe, or the adapter says it is a fallback). */
  software: boolean;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/** Dawn's npm package: WebGPU for Node. */
const DAWN_PACKAGE = 'webgpu';

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i;

/**
 * Whether a GPU's description (a WebGPU adapter's vendor/architecture/description, or a WebGL
 * renderer string such as `ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))`) names a CPU
 * implementation: SwiftShader, llvmpipe/lavapipe, Microsoft's basic renderer.
 */
export function isSoftwareDevice(description: string): boolean {
  return SOFTWARE.test(description);
}

/**
 * `navigator.gpu`: the browser's own; in Node, Dawn's from the npm `webgpu` package (an optional
 * dependency), installed as `navigator.gpu` with the WebGPU globals (`GPUBufferUsage`, ...) that
 * `@tensorflow/tfjs-backend-webgpu` reads. Undefined when neither exists.
 */
export async function findGpu(): Promise<GpuLike | undefined> {
  const existing = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (existing) return existing;
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    // A variable specifier: bundlers leave it to run time, so Dawn (Node only) stays out of browser bundles.
    dawn = (await import(/* @vite-ignore */ DAWN_PACKAGE)) as unknown as typeof dawn;
  } catch {
    return undefined;
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const navigator = (globalThis as { navigator?: object }).navigator;
  if (navigator) Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return gpu;
}

/** The adapter `gpu` offers (high-performance preference), described; undefined when there is none. */
export async function describeAdapter(gpu: GpuLike): Promise<WebGpuAdapterInfo | undefined> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return undefined;
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description || [vendor, architecture, info.device].filter(Boolean).join(' ');
  const software = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || isSoftwareDevice(`${vendor} ${architecture} ${description}`);
  return { vendor, architecture, description, software };
}
