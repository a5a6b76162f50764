import type * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from '../kernels/kernel-utils';
import { FUSED_WASM_BASE64 } from './fused-wasm.generated';

/** The functions of native/fused.c; every pointer is a byte offset in tfjs-backend-wasm's memory. */
export interface FusedExports {
  gelu(x: number, y: number, n: number): void;
  gelu_grad(x: number, dy: number, dx: number, n: number): void;
  layer_norm(x: number, gamma: number, beta: number, y: number, xhat: number, rstd: number, rows: number, cols: number, eps: number): void;
  layer_norm_grad(dy: number, xhat: number, rstd: number, gamma: number, dx: number, dgamma: number, dbeta: number, rows: number, cols: number): void;
  softmax_grad(y: number, dy: number, dx: number, rows: number, cols: number): void;
  matmul(a: number, b: number, c: number, m: number, k: number, n: number, transposeA: number): void;
  matmul_bias(a: number, b: number, bias: number, c: number, m: number, k: number, n: number, transposeA: number): void;
  attention_scores(qkv: number, scratch: number, scores: number, batch: number, tokens: number, heads: number, headDim: number, scale: number): void;
  attention_context(probs: number, qkv: number, context: number, batch: number, tokens: number, heads: number, headDim: number): void;
  attention_grad(
    dcontext: number, qkv: number, probs: number, scratch: number, ds: number, dqkv: number,
    batch: number, tokens: number, heads: number, headDim: number, scale: number,
  ): void;
}

/** The module's bytes (no `node:` import, no file: the browser bundle decodes them the same way). */
export function fusedWasmBytes(): Uint8Array {
  const text = atob(FUSED_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Reads an unsigned LEB128 at `at`: its value and the offset after it. */
function leb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

/**
 * The module with its memory import declared `shared` (the limits flag's bit 1), for tfjs's threaded
 * build, whose memory is a SharedArrayBuffer: an import must match the memory's sharedness. Finds the
 * memory entry of the import section (id 2) and sets the bit in place (the section keeps its size).
 */
export function withSharedMemoryImport(module: Uint8Array): Uint8Array {
  const bytes = module.slice();
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = leb(bytes, at + 1);
    if (id === 2) {
      let [count, p] = leb(bytes, body);
      for (; count > 0; count--) {
        for (let name = 0; name < 2; name++) {
          const [length, start] = leb(bytes, p);
          p = start + length;
        }
        const kind = bytes[p++]!;
        if (kind === 2) {
          if ((bytes[p]! & 1) === 0) throw new Error('vpeft fused kernels: the memory import has no maximum (a shared memory needs one)');
          bytes[p] = bytes[p]! | 2;
          return bytes;
        }
        if (kind === 0) p = leb(bytes, p)[1];
        else if (kind === 1) p = skipLimits(bytes, p + 1);
        else if (kind === 3) p += 2;
        else throw new Error(`vpeft fused kernels: unknown import kind ${kind}`);
      }
    }
    at = body + size;
  }
  throw new Error('vpeft fused kernels: the module imports no memory');
}

function skipLimits(bytes: Uint8Array, at: number): number {
  const flags = bytes[at]!;
  let p = leb(bytes, at + 1)[1];
  if (flags & 1) p = leb(bytes, p)[1];
  return p;
}

/** The parts of the WebAssembly JS API used here (this package's TS lib has no DOM and @types/node declares none). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: { plain?: object; shared?: object } | undefined;

/**
 * Whether this engine can run the fused module (it needs wasm SIMD, as tfjs's fastest build does);
 * compiles it once.
 */
export function fusedModuleSupported(): boolean {
  try {
    compiled ??= { plain: new WebAssemblyApi.Module(fusedWasmBytes()) };
    return true;
  } catch {
    return false;
  }
}

/** tfjs-backend-wasm's memory: the instance's exported memory (single-threaded builds) or the shared one it was given. */
function memoryOf(backend: WasmBackend): WasmMemory {
  const module = backend.wasm as unknown as { asm?: { memory?: WasmMemory }; wasmMemory?: WasmMemory };
  const memory = module.asm?.memory ?? module.wasmMemory;
  if (!(memory instanceof WebAssemblyApi.Memory)) throw new Error('vpeft fused kernels: cannot find the wasm backend\'s WebAssembly.Memory');
  return memory;
}

const instances = new WeakMap<WasmMemory, FusedExports>();

/**
 * The fused functions bound to `backend`'s memory (one instance per memory, made on first use). The
 * memory is imported, so the functions see it after it grows.
 */
export function fusedFor(backend: WasmBackend): FusedExports {
  const memory = memoryOf(backend);
  let fused = instances.get(memory);
  if (fused === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    compiled ??= {};
    const module = shared
      ? (compiled.shared ??= new WebAssemblyApi.Module(withSharedMemoryImport(fusedWasmBytes())))
      : (compiled.plain ??= new WebAssemblyApi.Module(fusedWasmBytes()));
    fused = new WebAssemblyApi.Instance(module, { env: { memory } }).exports as unknown as FusedExports;
    instances.set(memory, fused);
  }
  return fused;
}

/** A tensor's byte offset in the wasm backend's memory. */
export function pointer(backend: WasmBackend, info: tf.TensorInfo): number {
  return backend.getMemoryOffset(info.dataId);
}
