import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../errors/errors';
import { backendEnvironment } from './backend-environment';

/** Backends vpeft can run on, fastest first. */
export type BackendChoice = 'tfjs-node-gpu' | 'tfjs-node' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** What {@link initBackend} selected. */
export interface BackendInfo {
  /** The choice that won. */
  choice: BackendChoice;
  /** The tfjs backend name (`tensorflow`, `wasm` or `cpu`). */
  tfBackend: string;
  /** The npm package that provides it. */
  package: string;
  /** Whether wasm SIMD is in use (wasm only). */
  simd?: boolean;
  /** Threads the backend computes on (wasm in Node: 1). */
  threads?: number;
  /** Whether vpeft's fast kernels (`@vpeft/backend-wasm`) are registered (wasm only). */
  fastKernels?: boolean;
  /** The device a provider found (webgpu: the adapter, e.g. `SwiftShader driver 5.0.0 (software)`). */
  device?: string;
}

/** What a {@link BackendProvider} found when asked to prepare its backend. */
export interface PreparedBackend {
  /** The device, in words (for logs and `vpeft inspect`). */
  device: string;
  /** Whether `auto` may pick it (false for software GPU adapters: only an explicit choice uses them). */
  automatic: boolean;
}

/**
 * A backend that a package adds to {@link initBackend}'s choice, registered on import the way tfjs
 * backends register (`@vpeft/backend-webgpu` registers `webgpu`). Core holds no backend code.
 */
export interface BackendProvider {
  /** The choice it provides. */
  choice: BackendChoice;
  /** The npm package that provides it (named in errors). */
  package: string;
  /** The tfjs backend name it registers (`webgpu`). */
  tfBackend: string;
  /** Finds a device and registers the tfjs backend; undefined when there is no usable device. */
  prepare(): Promise<PreparedBackend | undefined>;
}

const PROVIDERS_KEY = Symbol.for('vpeft.backendProviders');
const providers: Map<BackendChoice, BackendProvider> = ((globalThis as Record<symbol, unknown>)[PROVIDERS_KEY] ??= new Map()) as Map<
  BackendChoice,
  BackendProvider
>;

/** Adds (or replaces) a backend provider; one global registry shared by duplicate installs of core. */
export function registerBackendProvider(provider: BackendProvider): void {
  providers.set(provider.choice, provider);
}

/** The provider registered for `choice`, if any. */
export function getBackendProvider(choice: BackendChoice): BackendProvider | undefined {
  return providers.get(choice);
}

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** `auto` (default) picks the fastest installed; `VPEFT_BACKEND` in the environment overrides `auto`. */
  backend?: BackendChoice | 'auto';
  /** Use vpeft's fast wasm kernels (default true); false restores tfjs's stock ones (to compare). */
  fastKernels?: boolean;
}

const PACKAGES: Record<BackendChoice, { pkg: string; tfBackend: string }> = {
  'tfjs-node-gpu': { pkg: '@tensorflow/tfjs-node-gpu', tfBackend: 'tensorflow' },
  'tfjs-node': { pkg: '@tensorflow/tfjs-node', tfBackend: 'tensorflow' },
  webgpu: { pkg: '@vpeft/backend-webgpu', tfBackend: 'webgpu' },
  webgl: { pkg: '@tensorflow/tfjs-backend-webgl', tfBackend: 'webgl' },
  wasm: { pkg: '@vpeft/backend-wasm', tfBackend: 'wasm' },
  cpu: { pkg: '@tensorflow/tfjs-backend-cpu', tfBackend: 'cpu' },
};
const CHOICES = Object.keys(PACKAGES) as BackendChoice[];

/** What core uses of `@vpeft/backend-wasm` (it registers everything else on import). */
interface BackendWasmPackage {
  registerFastWasmKernels(): void;
  unregisterFastWasmKernels(): void;
  fastWasmKernelsRegistered(): boolean;
}

const BACKEND_WASM = '@vpeft/backend-wasm';

/**
 * Imports `@vpeft/backend-wasm` when it is installed (an optional peer dependency of core): on import it
 * registers tfjs's gradients and vpeft's lean ones (for every backend) and the wasm backend with vpeft's
 * fast kernels. Undefined when it is not installed; core itself holds no kernel or gradient.
 */
async function loadBackendWasm(): Promise<BackendWasmPackage | undefined> {
  try {
    return (await import('@vpeft/backend-wasm')) satisfies BackendWasmPackage;
  } catch (error) {
    if (isNotFound(error, BACKEND_WASM)) return undefined;
    throw new BackendError(`loading ${BACKEND_WASM} failed: ${(error as Error).message}`);
  }
}

/**
 * Whether `error` says that `pkg` itself could not be found (Node: "Cannot find package 'pkg' …";
 * vite: "Failed to load url pkg …"), not something it imports: a broken install is reported.
 */
function isNotFound(error: unknown, pkg: string): boolean {
  const { code, message = '' } = error as { code?: string; message?: string };
  const firstLine = message.split('\n')[0] ?? '';
  const notFound = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || firstLine.startsWith('Failed to load url');
  return notFound && (firstLine.includes(`'${pkg}'`) || firstLine.includes(`url ${pkg} `));
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;
let pendingKey: string | undefined;

function resolveChoice(option: BackendChoice | 'auto' | undefined): BackendChoice | 'auto' {
  const fromEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.VPEFT_BACKEND?.trim();
  const requested = option && option !== 'auto' ? option : fromEnv || 'auto';
  if (requested !== 'auto' && !(requested in PACKAGES)) {
    throw new BackendError(
      `unknown backend ${JSON.stringify(requested)}${fromEnv === requested ? ' (from VPEFT_BACKEND)' : ''}; expected one of auto, ${CHOICES.join(', ')}`,
    );
  }
  return requested as BackendChoice | 'auto';
}

/**
 * Selects and initialises the tfjs backend: `tfjs-node-gpu` > `tfjs-node` > `webgpu` (when
 * `@vpeft/backend-webgpu` was imported and found a hardware adapter) > `wasm` > `cpu`, or the
 * explicit choice (option, else the `VPEFT_BACKEND` environment variable). Asking for a backend whose
 * package is absent throws a {@link BackendError} naming the package to install. Idempotent.
 *
 * The wasm backend comes from `@vpeft/backend-wasm` (an optional peer dependency): when installed it
 * is imported whatever the choice, and registers tfjs's gradients with vpeft's lean ones (every
 * backend) and the wasm backend with vpeft's fast kernels. Without it (or `@tensorflow/tfjs-node`,
 * which brings tfjs's gradients too) core runs on `cpu` and can run models but not train them.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const requested = resolveChoice(options.backend);
  const key = `${requested}:${options.fastKernels ?? true}`;
  if (current && (requested === 'auto' || requested === current.choice) && pendingKey === key) return current;
  if (pending && pendingKey === key) return pending;
  pendingKey = key;
  pending = select(requested, options.fastKernels ?? true);
  try {
    current = await pending;
    return current;
  } catch (error) {
    pending = undefined;
    pendingKey = undefined;
    throw error;
  }
}

async function select(requested: BackendChoice | 'auto', fastKernels: boolean): Promise<BackendInfo> {
  // Loaded whatever the choice: its gradients serve every backend (as tfjs-node's union import does).
  const backendWasm = await loadBackendWasm();
  if (backendWasm) {
    if (fastKernels) backendWasm.registerFastWasmKernels();
    else backendWasm.unregisterFastWasmKernels();
  }
  const environment = backendEnvironment();
  const candidates = requested === 'auto' ? environment.order : [requested];
  for (const choice of candidates) {
    const { pkg, tfBackend } = PACKAGES[choice];
    if (choice === 'webgpu') {
      const info = await selectProvided(choice, requested === 'auto');
      if (info) return info;
      continue;
    }
    const loaded =
      choice === 'wasm' ? backendWasm !== undefined : (requested !== 'auto' || environment.installed(pkg, tfBackend)) && environment.load(pkg, tfBackend);
    if (!loaded) {
      if (requested !== 'auto') {
        throw new BackendError(`backend "${choice}" needs the package ${pkg}; install it (npm i ${pkg}) or choose another backend`);
      }
      continue;
    }
    // Loading the wasm package registers it at a high priority; make sure the chosen one is active.
    if (!(await tf.setBackend(tfBackend))) {
      if (requested !== 'auto') throw new BackendError(`backend "${choice}" (${pkg}) failed to initialise`);
      continue;
    }
    await tf.ready();
    const info: BackendInfo = { choice, tfBackend, package: pkg };
    if (tfBackend === 'wasm') {
      info.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      info.threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? 2 : 1;
      info.fastKernels = backendWasm?.fastWasmKernelsRegistered() ?? false;
    }
    return info;
  }
  throw new BackendError(`no tfjs backend could be loaded; install ${PACKAGES.wasm.pkg}`);
}

/**
 * A provided backend (webgpu): in `auto` only when its package was imported (registered) and found a
 * device it allows automatically; when asked for explicitly, the package is imported if installed, and
 * a missing package or device is an error.
 */
async function selectProvided(choice: BackendChoice, auto: boolean): Promise<BackendInfo | undefined> {
  const { pkg, tfBackend } = PACKAGES[choice];
  if (!auto && !providers.has(choice)) {
    try {
      await import(/* @vite-ignore */ pkg);
    } catch (error) {
      if (!isNotFound(error, pkg)) throw new BackendError(`loading ${pkg} failed: ${(error as Error).message}`);
    }
  }
  const provider = providers.get(choice);
  if (!provider) {
    if (auto) return undefined;
    throw new BackendError(`backend "${choice}" needs the package ${pkg}; install it (npm i ${pkg}) or choose another backend`);
  }
  const prepared = await provider.prepare();
  if (!prepared || (auto && !prepared.automatic)) {
    if (auto) return undefined;
    throw new BackendError(`backend "${choice}": no ${choice} device found (${provider.package}); choose another backend`);
  }
  if (!(await tf.setBackend(provider.tfBackend))) {
    if (auto) return undefined;
    throw new BackendError(`backend "${choice}" (${provider.package}, ${prepared.device}) failed to initialise`);
  }
  await tf.ready();
  return { choice, tfBackend, package: provider.package, device: prepared.device };
}

/** The backend selected by {@link initBackend}, or undefined before it ran. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** One line describing the backend, for logs and `vpeft inspect`. */
export function describeBackend(info: BackendInfo): string {
  const extras: string[] = [];
  if (info.simd !== undefined) extras.push(`simd ${info.simd ? 'on' : 'off'}`);
  if (info.threads !== undefined) extras.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  if (info.device !== undefined) extras.push(info.device);
  if (info.fastKernels !== undefined) extras.push(`fast kernels ${info.fastKernels ? 'on' : 'off'}`);
  return `${info.choice} (${info.package}${extras.length ? `; ${extras.join(', ')}` : ''})`;
}

