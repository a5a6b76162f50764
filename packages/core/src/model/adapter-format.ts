import type { Backbone } from '../backbone/backbone';
import { VpeftError } from '../errors/errors';
import type { PeftModel } from './peft-model';

/**
 * An on-disk adapter format, registered by name like methods: vpeft's own (`'vpeft'`, built into
 * core) and others from plugin packages (e.g. Hugging Face PEFT's `'peft'`, from `@vpeft/method-lora`).
 * `saveAdapter` / `loadAdapter` / `loadPeftModel` look the format up here.
 */
export interface AdapterFormat {
  readonly name: string;
  /** The npm package that provides it, for "install X" messages. */
  readonly packageName?: string;
  /** Writes the model's adapter to `dir`; throws when the model can't be expressed in this format. */
  save(model: PeftModel, dir: string): Promise<void>;
  /** Whether `dir` holds an adapter in this format. */
  detect(dir: string): Promise<boolean>;
  /** Builds a PeftModel on `backbone` from the adapter in `dir`. */
  load(backbone: Backbone, dir: string): Promise<PeftModel>;
  /** Loads the adapter's tensors in `dir` into a model built with the same methods and backbone (optional). */
  loadInto?(model: PeftModel, dir: string): Promise<void>;
}

/** The name of vpeft's own format, the default of save and load. */
export const VPEFT_ADAPTER_FORMAT = 'vpeft';

// Kept on globalThis so that two installed copies of @vpeft/core share one registry (as tfjs does).
const KEY = Symbol.for('@vpeft/core/adapter-formats');
const scope = globalThis as unknown as Record<symbol, Map<string, AdapterFormat> | undefined>;
const formats: Map<string, AdapterFormat> = (scope[KEY] ??= new Map());

/**
 * Registers an adapter format by name. Registering the same format (or one of that name from the
 * same package, e.g. its ESM and CJS builds) again is a no-op; another format under a taken name throws.
 */
export function registerAdapterFormat(format: AdapterFormat): void {
  const existing = formats.get(format.name);
  if (existing && existing !== format) {
    if (existing.packageName === format.packageName) return;
    throw new VpeftError(`adapter format "${format.name}" is already registered${existing.packageName ? ` by ${existing.packageName}` : ''}; unregister it first`);
  }
  formats.set(format.name, format);
}

/** Removes an adapter format from the registry. */
export function unregisterAdapterFormat(name: string): boolean {
  return formats.delete(name);
}

/** A registered adapter format, or throws listing the registered ones. */
export function getAdapterFormat(name: string): AdapterFormat {
  const format = formats.get(name);
  if (!format) {
    throw new VpeftError(`adapter format "${name}" is not registered (a format registers when its package is imported); registered: ${[...formats.keys()].join(', ') || 'none'}`);
  }
  return format;
}

/** The registered adapter formats, in registration order (vpeft's own first). */
export function listAdapterFormats(): AdapterFormat[] {
  return [...formats.values()];
}
