import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone/backbone';
import { FileFormatError, ShapeMismatchError, VpeftError } from '../errors/errors';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors';
import { sha256Hex } from '../io/sha256';
import type { Parameter } from '../params/parameter';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterModelConfig,
  checkBackboneMatches,
  parseAdapterConfig,
  type AdapterConfig,
} from './adapter-config';
import { applyAdapterConfig } from './apply-adapter-config';
import type { PeftModel } from './peft-model';

/**
 * vpeft's adapter as in-memory files, by file name: the bytes `saveAdapter(dir)` writes in Node, for a
 * browser download, IndexedDB or a network upload.
 */
export interface AdapterFiles {
  [ADAPTER_CONFIG_FILE]: Uint8Array;
  [ADAPTER_WEIGHTS_FILE]: Uint8Array;
}

/**
 * Encodes the model's adapter in vpeft's format, in memory: `adapter_config.json` (methods, options,
 * backbone config, head, the tensor index and the weights' SHA-256) and `adapter.safetensors` with the
 * trainable tensors only. Byte for byte what `saveAdapter(dir)` writes, in Node and in a browser.
 */
export async function adapterToFiles(model: PeftModel): Promise<{ config: AdapterConfig; files: AdapterFiles }> {
  if (model.isMerged) throw new VpeftError('saveAdapter: the model is merged; call unmerge() first (a merged adapter is folded into the backbone weights)');
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const index: AdapterConfig['tensors'] = {};
  for (const p of model.trainableParameters()) {
    tensors.set(p.name, { shape: p.variable.shape.slice(), data: (await p.variable.data()) as Float32Array });
    index[p.name] = { owner: p.selectedBy ?? p.owner, shape: p.variable.shape.slice() };
  }
  const weights = serializeSafetensors(tensors, { format: 'vpeft-adapter' });
  const config: AdapterConfig = {
    format: 'vpeft-adapter',
    formatVersion: 1,
    ...adapterModelConfig(model),
    tensors: index,
    weightsSha256: await sha256Hex(weights),
  };
  const text = new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`);
  return { config, files: { [ADAPTER_CONFIG_FILE]: text, [ADAPTER_WEIGHTS_FILE]: weights } };
}

/** Where the bytes given to {@link loadAdapterBytes} came from, for error messages. */
export interface AdapterSources {
  config: string;
  weights: string;
}

/**
 * Loads an adapter's weights file into a model built with the same methods and backbone: checks the
 * backbone config, the checksum, that the tensor set matches the model's trainable set, and shapes.
 */
export async function loadAdapterBytes(
  model: PeftModel,
  config: AdapterConfig,
  weights: Uint8Array,
  sources: AdapterSources = { config: ADAPTER_CONFIG_FILE, weights: ADAPTER_WEIGHTS_FILE },
): Promise<void> {
  checkBackboneMatches(config.backbone, { ...model.backbone.config }, sources.config);
  const file = sources.weights;
  if (config.weightsSha256 && (await sha256Hex(weights)) !== config.weightsSha256) {
    throw new FileFormatError(file, `does not match ${ADAPTER_CONFIG_FILE} (checksum differs: an interrupted or mixed save?)`);
  }
  const { tensors } = parseSafetensors(weights, file);
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

/** Loads in-memory adapter files (see {@link adapterToFiles}) into a model built with the same methods and backbone. */
export async function loadAdapterFromFiles(model: PeftModel, files: AdapterFiles): Promise<void> {
  const config = parseAdapterConfig(new TextDecoder().decode(files[ADAPTER_CONFIG_FILE]));
  await loadAdapterBytes(model, config, files[ADAPTER_WEIGHTS_FILE]);
}

/**
 * Rebuilds a PeftModel on `backbone` from in-memory adapter files (the browser's `loadPeftModel`):
 * each method is looked up in the registry by name and configured with the saved options, then the
 * tensors are loaded.
 */
export async function peftModelFromFiles(backbone: Backbone, files: AdapterFiles): Promise<PeftModel> {
  const config = parseAdapterConfig(new TextDecoder().decode(files[ADAPTER_CONFIG_FILE]));
  const model = applyAdapterConfig(backbone, config, ADAPTER_CONFIG_FILE);
  try {
    await loadAdapterBytes(model, config, files[ADAPTER_WEIGHTS_FILE]);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** A file the user picked or dropped (a DOM `File`, or anything with a name and its bytes). */
export interface NamedBlob {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * The adapter files among picked files (a `<input type=file multiple>`'s `FileList`, dropped files):
 * `adapter_config.json` and `adapter.safetensors` by name, else the one `.json` and the one
 * `.safetensors` (a browser may rename a download to `adapter_config (1).json`).
 */
export async function adapterFilesFromBlobs(blobs: Iterable<NamedBlob>): Promise<AdapterFiles> {
  const list = [...blobs];
  const pick = (name: string, extension: string): NamedBlob => {
    const exact = list.find((b) => b.name === name);
    if (exact) return exact;
    const candidates = list.filter((b) => b.name.toLowerCase().endsWith(extension));
    if (candidates.length !== 1) {
      throw new VpeftError(
        `adapter files: expected ${name} (or one ${extension} file) among ${list.length ? list.map((b) => b.name).join(', ') : 'no files'}; pick both ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}`,
      );
    }
    return candidates[0]!;
  };
  const config = pick(ADAPTER_CONFIG_FILE, '.json');
  const weights = pick(ADAPTER_WEIGHTS_FILE, '.safetensors');
  return {
    [ADAPTER_CONFIG_FILE]: new Uint8Array(await config.arrayBuffer()),
    [ADAPTER_WEIGHTS_FILE]: new Uint8Array(await weights.arrayBuffer()),
  };
}
