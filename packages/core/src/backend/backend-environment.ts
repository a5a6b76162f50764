import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from './backend';

/**
 * Where {@link initBackend} looks for backends: the `auto` order and how a backend's package is found.
 * Core's Node entry installs Node's (native tfjs-node first; packages resolved with `require`); the
 * default, used by the browser entry, is the browser's: webgpu > webgl > wasm > cpu, a backend being
 * available when an imported package registered it with tfjs (a bundle holds what it imported).
 */
export interface BackendEnvironment {
  /** The choices `auto` tries, fastest first. */
  order: readonly BackendChoice[];
  /** Whether `pkg` (providing tfjs backend `tfBackend`) is there, without loading it. */
  installed(pkg: string, tfBackend: string): boolean;
  /** Loads `pkg` so that its backend registers; false when it is not there; throws when it is broken. */
  load(pkg: string, tfBackend: string): boolean;
}

const registered = (_pkg: string, tfBackend: string): boolean => tf.findBackendFactory(tfBackend) != null;

/** The browser's environment (the default): backends that imported packages registered with tfjs. */
export const BROWSER_BACKEND_ENVIRONMENT: BackendEnvironment = {
  order: ['webgpu', 'webgl', 'wasm', 'cpu'],
  installed: registered,
  load: registered,
};

// On globalThis so that two installed copies of core share one (as the backend providers are).
const KEY = Symbol.for('vpeft.backendEnvironment');
const scope = globalThis as unknown as Record<symbol, BackendEnvironment | undefined>;

/** Installs the environment {@link initBackend} selects in (core's Node entry installs Node's). */
export function setBackendEnvironment(environment: BackendEnvironment): void {
  scope[KEY] = environment;
}

/** The installed environment, the browser's by default. */
export function backendEnvironment(): BackendEnvironment {
  return scope[KEY] ?? BROWSER_BACKEND_ENVIRONMENT;
}
