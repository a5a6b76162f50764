import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError, ShapeMismatchError, VpeftError } from '../errors/errors';
import { writeFileAtomic } from '../io/atomic-write';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors';
import type { Parameter } from '../params/parameter';
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

/** Backbone config keys that don't change the weights' meaning (training-time settings). */
const NON_STRUCTURAL = new Set(['dropPathRate', 'name']);

/**
 * Writes the adapter: `adapter_config.json` (methods, options, backbone config, head) and
 * `adapter.safetensors` holding the trainable tensors only. Each file is written atomically,
 * tensors first; the config records the tensors' checksum.
 */
export async function saveAdapterFiles(model: PeftModel, dir: string): Promise<AdapterConfig> {
  if (model.isMerged) throw new VpeftError('saveAdapter: the model is merged; call unmerge() first (a merged adapter is folded into the backbone weights)');
  await mkdir(dir, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const index: AdapterConfig['tensors'] = {};
  for (const p of model.trainableParameters()) {
    tensors.set(p.name, { shape: p.variable.shape.slice(), data: (await p.variable.data()) as Float32Array });
    index[p.name] = { owner: p.selectedBy ?? p.owner, shape: p.variable.shape.slice() };
  }
  const bytes = serializeSafetensors(tensors, { format: 'vpeft-adapter' });
  const config: AdapterConfig = {
    format: 'vpeft-adapter',
    formatVersion: 1,
    ...adapterModelConfig(model),
    tensors: index,
    weightsSha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await writeFileAtomic(join(dir, ADAPTER_WEIGHTS_FILE), bytes);
  await writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** Reads and checks `adapter_config.json`. */
export async function readAdapterConfig(dir: string): Promise<AdapterConfig> {
  const file = join(dir, ADAPTER_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FileFormatError(file, `cannot read the adapter config (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
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
  return config;
}

/** Throws naming the differing keys when the adapter was made for another backbone. */
export function checkBackboneMatches(saved: Record<string, unknown>, actual: Record<string, unknown>, source: string): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(actual)]);
  const diffs = [...keys].filter((k) => !NON_STRUCTURAL.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(actual[k]));
  if (diffs.length) {
    throw new VpeftError(
      `${source}: the adapter was made for another backbone: ${diffs.map((k) => `${k} ${JSON.stringify(saved[k])} (adapter) vs ${JSON.stringify(actual[k])} (given)`).join('; ')}`,
    );
  }
}

/**
 * Loads an adapter's tensors into a model built with the same methods and backbone: checks the
 * backbone config, the checksum, that the tensor set matches the model's trainable set, and shapes.
 */
export async function loadAdapterWeights(model: PeftModel, dir: string, config?: AdapterConfig): Promise<void> {
  const cfg = config ?? (await readAdapterConfig(dir));
  const configFile = join(dir, ADAPTER_CONFIG_FILE);
  checkBackboneMatches(cfg.backbone, { ...model.backbone.config }, configFile);
  const file = join(dir, ADAPTER_WEIGHTS_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new FileFormatError(file, `cannot read the adapter weights (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (cfg.weightsSha256 && sha !== cfg.weightsSha256) {
    throw new FileFormatError(file, `does not match ${ADAPTER_CONFIG_FILE} (checksum differs: an interrupted or mixed save?)`);
  }
  const { tensors } = parseSafetensors(bytes, file);
  assignTrainableTensors(model.trainableParameters(), tensors, file);
}

/**
 * Assigns saved tensors to exactly `parameters`: the names must match one to one and the shapes
 * agree (checked before any assignment), else it throws naming the missing, unexpected or misshapen
 * tensors and `source` (the file they came from).
 */
export function assignTrainableTensors(parameters: readonly Parameter[], tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source: string): void {
  const expectedNames = new Set(parameters.map((p) => p.name));
  const missing = [...expectedNames].filter((n) => !tensors.has(n));
  const unexpected = [...tensors.keys()].filter((n) => !expectedNames.has(n));
  if (missing.length || unexpected.length) {
    throw new FileFormatError(
      source,
      `tensors do not match the model's trainable parameters${missing.length ? `; missing: ${missing.slice(0, 6).join(', ')}` : ''}${unexpected.length ? `; unexpected: ${unexpected.slice(0, 6).join(', ')}` : ''}`,
    );
  }
  for (const p of parameters) {
    const t = tensors.get(p.name)!;
    if (t.shape.join(',') !== p.variable.shape.join(',')) throw new ShapeMismatchError(p.name, p.variable.shape, [...t.shape], source);
  }
  for (const p of parameters) {
    const t = tensors.get(p.name)!;
    const value = tf.tensor(t.data, [...t.shape], 'float32');
    p.variable.assign(value);
    value.dispose();
  }
}
