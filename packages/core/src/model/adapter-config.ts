import { BackboneMismatchError, describeValue, FileFormatError } from '../errors/errors';
import type { PeftModel } from './peft-model';

/** File names of vpeft's adapter format. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter.safetensors';

/** The JSON written next to the adapter's tensors. */
export interface AdapterConfig {
  format: 'vpeft-adapter';
  formatVersion: 1;
  backbone: Record<string, unknown>;
  numClasses: number;
  classNames?: string[];
  seed: number;
  methods: Array<{ method: string; name: string; version: string; packageName?: string; options: Record<string, unknown> }>;
  /** Every tensor in the weights file with its owner and shape. */
  tensors: Record<string, { owner: string; shape: number[] }>;
  /** SHA-256 of the weights file, so a config never pairs with the wrong tensors. */
  weightsSha256: string;
}

/** What an adapter config says about the model apart from its tensors: enough to rebuild it on a backbone. */
export type AdapterModelConfig = Pick<AdapterConfig, 'backbone' | 'numClasses' | 'classNames' | 'seed' | 'methods'>;

/**
 * The model as a saved adapter describes it: the backbone's config, the head, the seed and each
 * method instance by name, package and options. {@link applyAdapterConfig} rebuilds a model from it.
 */
export function adapterModelConfig(model: PeftModel): AdapterModelConfig {
  return {
    backbone: { ...model.backbone.config },
    numClasses: model.numClasses,
    ...(model.classNames ? { classNames: [...model.classNames] } : {}),
    seed: model.seed,
    methods: model.methods.map((m) => ({
      method: m.definition.name,
      name: m.name,
      version: m.definition.version,
      ...(m.definition.packageName ? { packageName: m.definition.packageName } : {}),
      options: { ...(m.options as Record<string, unknown>) },
    })),
  };
}

/** Parses and checks the text of an `adapter_config.json`; errors name `file`. */
export function parseAdapterConfig(text: string, file: string = ADAPTER_CONFIG_FILE): AdapterConfig {
  let config: AdapterConfig;
  try {
    config = JSON.parse(text) as AdapterConfig;
  } catch (error) {
    throw new FileFormatError(file, `is not valid JSON: ${(error as Error).message}`);
  }
  if (config.format !== 'vpeft-adapter') throw new FileFormatError(file, `"format" is ${JSON.stringify(config.format)}, expected "vpeft-adapter"`);
  if (config.formatVersion !== 1) throw new FileFormatError(file, `formatVersion ${config.formatVersion} is not supported (expected 1)`);
  for (const key of ['backbone', 'methods', 'tensors', 'numClasses'] as const) {
    if (config[key] === undefined) throw new FileFormatError(file, `missing "${key}"`);
  }
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(config.backbone)) throw new FileFormatError(file, `"backbone" must be the backbone's config object, got ${describeValue(config.backbone)}`);
  if (!isObject(config.tensors)) throw new FileFormatError(file, `"tensors" must map tensor names to owner and shape, got ${describeValue(config.tensors)}`);
  if (!Number.isInteger(config.numClasses) || config.numClasses < 1) throw new FileFormatError(file, `"numClasses" must be a positive integer, got ${describeValue(config.numClasses)}`);
  if (config.classNames !== undefined && (!Array.isArray(config.classNames) || config.classNames.length !== config.numClasses)) {
    throw new FileFormatError(file, `"classNames" must list ${config.numClasses} names (numClasses), got ${describeValue(config.classNames)}`);
  }
  if (!Array.isArray(config.methods)) throw new FileFormatError(file, `"methods" must be a list of method entries, got ${describeValue(config.methods)}`);
  config.methods.forEach((m, i) => {
    if (!isObject(m) || typeof m.method !== 'string' || typeof m.name !== 'string' || !isObject(m.options)) {
      throw new FileFormatError(file, `methods[${i}] must be an object with "method", "name" and "options", got ${describeValue(m)}`);
    }
  });
  return config;
}

/** Backbone config keys that don't change the weights' meaning (training-time settings). */
const NON_STRUCTURAL = new Set(['dropPathRate', 'name']);

/** How many differing config keys {@link checkBackboneMatches} names before "and N more". */
const DIFFS_SHOWN = 4;

/**
 * Throws a {@link BackboneMismatchError} naming the backbones and the first differing keys when the
 * adapter was made for another backbone.
 */
export function checkBackboneMatches(saved: Record<string, unknown>, actual: Record<string, unknown>, source: string): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(actual)]);
  const diffs = [...keys].filter((k) => !NON_STRUCTURAL.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(actual[k]));
  if (diffs.length) {
    const shown = diffs.slice(0, DIFFS_SHOWN).map((k) => `${k} ${JSON.stringify(saved[k]) ?? 'unset'} (adapter) vs ${JSON.stringify(actual[k]) ?? 'unset'} (given)`);
    const more = diffs.length > DIFFS_SHOWN ? ` and ${diffs.length - DIFFS_SHOWN} more` : '';
    const names = typeof saved.name === 'string' && typeof actual.name === 'string' && saved.name !== actual.name ? ` (${saved.name}; given ${actual.name})` : '';
    throw new BackboneMismatchError(`${source}: the adapter was made for another backbone${names}: ${shown.join('; ')}${more}; load it on the backbone it was trained on`);
  }
}
