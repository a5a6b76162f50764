import type { Backbone } from '../backbone/backbone';
import { VpeftError } from '../errors/errors';
import type { PeftModel } from './peft-model';

/**
 * An on-disk adapter format besides vpeft's own (e.g. Hugging Face PEFT's, provided by
 * `@vpeft/method-lora`). Registered by name, like methods.
 */
export interface AdapterFormat {
  readonly name: string;
  readonly packageName?: string;
  /** Writes the model's adapter to `dir`; throws when the model can't be expressed in this format. */
  save(model: PeftModel, dir: string): Promise<void>;
  /** Whether `dir` holds an adapter in this format. */
  detect(dir: string): Promise<boolean>;
  /** Builds a PeftModel on `backbone` from the adapter in `dir`. */
  load(backbone: Backbone, dir: string): Promise<PeftModel>;
}

const KEY = Symbol.for('@vpeft/core/adapter-formats');
const scope = globalThis as unknown as Record<symbol, Map<string, AdapterFormat> | undefined>;
const formats: Map<string, AdapterFormat> = (scope[KEY] ??= new Map());

/** Registers an adapter format (idempotent for the same object). */
export function registerAdapterFormat(format: AdapterFormat): void {
  if (format.name === 'vpeft') throw new VpeftError('"vpeft" is the built-in adapter format');
  formats.set(format.name, format);
}

/** A registered adapter format, or throws listing the registered ones. */
export function getAdapterFormat(name: string): AdapterFormat {
  const format = formats.get(name);
  if (!format) {
    const hint = name === 'peft' ? ' (install and import @vpeft/method-lora)' : '';
    throw new VpeftError(`adapter format "${name}" is not registered${hint}; available: vpeft${[...formats.keys()].map((k) => `, ${k}`).join('')}`);
  }
  return format;
}

/** Registered formats other than vpeft's own. */
export function listAdapterFormats(): AdapterFormat[] {
  return [...formats.values()];
}
