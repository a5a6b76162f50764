import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';

// Only Node built-ins and type imports here: the web app's Vite config runs this file (to serve the
// model as static files), where workspace packages resolve to builds that may not exist.

const requireFromHere = createRequire(import.meta.url);

/** The folder of the MobileNetV2 in the installed nsfwjs package, or undefined when nsfwjs is not installed. */
export function nsfwjsMobileNetV2Dir(): string | undefined {
  let entry: string;
  try {
    entry = requireFromHere.resolve('nsfwjs');
  } catch {
    return undefined;
  }
  // Its `exports` map blocks deep imports, so files are read by path.
  const marker = `${sep}nsfwjs${sep}`;
  const at = entry.lastIndexOf(marker);
  const root = at >= 0 ? entry.slice(0, at + marker.length - 1) : dirname(dirname(dirname(entry)));
  return join(root, 'dist', 'models', 'mobilenet_v2');
}

/** Evaluates one of nsfwjs's UMD-wrapped model modules and returns its export. */
async function loadUmdModule(path: string): Promise<unknown> {
  const source = await readFile(path, 'utf8');
  const module = { exports: {} as unknown };
  // The files are browserify UMD bundles: run them with a CommonJS `module`/`exports` pair.
  new Function('module', 'exports', 'require', source)(module, module.exports, requireFromHere);
  return module.exports;
}

/** The nsfwjs MobileNetV2 as tfjs model artifacts: Keras topology, weight specs (uint8-quantised) and weight bytes. */
export interface NsfwjsModel {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: Uint8Array;
}

/** Reads the MobileNetV2 from the nsfwjs folder `dir` (see {@link nsfwjsMobileNetV2Dir}). */
export async function readNsfwjsMobileNetV2(dir: string): Promise<NsfwjsModel> {
  const topology = (await loadUmdModule(join(dir, 'model.min.js'))) as { modelTopology?: object; weightsManifest?: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  const shard = await loadUmdModule(join(dir, 'group1-shard1of1.min.js'));
  if (typeof shard !== 'string' || !topology.modelTopology || topology.weightsManifest?.length !== 1) {
    throw new Error(`${dir}: unexpected nsfwjs model file layout (expected model.min.js and one weight shard)`);
  }
  const bytes = Buffer.from(shard, 'base64');
  return { modelTopology: topology.modelTopology, weightSpecs: topology.weightsManifest[0]!.weights, weightData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The name of the weights file in {@link tfjsModelFiles}. */
export const MOBILENET_V2_WEIGHTS_FILE = 'group1-shard1of1.bin';

/**
 * The model as the files `tf.loadLayersModel(url)` fetches: `model.json` (topology and a weights
 * manifest naming the shard) and the shard's bytes, by file name — to serve over HTTP.
 */
export function tfjsModelFiles(model: NsfwjsModel): Record<string, Uint8Array> {
  const json = { modelTopology: model.modelTopology, weightsManifest: [{ paths: [MOBILENET_V2_WEIGHTS_FILE], weights: model.weightSpecs }] };
  return { 'model.json': new TextEncoder().encode(JSON.stringify(json)), [MOBILENET_V2_WEIGHTS_FILE]: model.weightData };
}
