import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { VpeftError } from '@vpeft/core';
import { LayersModelBackbone } from './layers-backbone';

const requireFromHere = createRequire(import.meta.url);

/** Where the nsfwjs package is installed (its `exports` map blocks deep imports, so files are read by path). */
function nsfwjsRoot(): string {
  let entry: string;
  try {
    entry = requireFromHere.resolve('nsfwjs');
  } catch {
    throw new VpeftError('the pre-trained MobileNetV2 ships in the npm package nsfwjs@4; install it (npm i nsfwjs@4.4.0)');
  }
  const marker = `${sep}nsfwjs${sep}`;
  const at = entry.lastIndexOf(marker);
  return at >= 0 ? entry.slice(0, at + marker.length - 1) : dirname(dirname(dirname(entry)));
}

/** Evaluates one of nsfwjs's UMD-wrapped model modules and returns its export. */
async function loadUmdModule(path: string): Promise<unknown> {
  const source = await readFile(path, 'utf8');
  const module = { exports: {} as unknown };
  // The files are browserify UMD bundles: run them with a CommonJS `module`/`exports` pair.
  new Function('module', 'exports', 'require', source)(module, module.exports, requireFromHere);
  return module.exports;
}

/**
 * The MobileNetV2 (alpha 1.0, 224x224) that ships inside the `nsfwjs@4` npm package: a Keras 2.2.4
 * functional model with uint8-quantised weights (dequantised to float32 on load), trained by the
 * nsfwjs authors (ImageNet-initialised MobileNetV2 fine-tuned on their 5-class image data). Loaded
 * offline as backbone `mobilenet_v2` with its 5-class head dropped: features are the 1280-d pooled
 * output (`flatten_1`). Input: NHWC float32 RGB in [0, 1], as nsfwjs feeds it.
 */
export async function loadNsfwjsMobileNetV2(): Promise<LayersModelBackbone> {
  const dir = join(nsfwjsRoot(), 'dist', 'models', 'mobilenet_v2');
  const topology = (await loadUmdModule(join(dir, 'model.min.js'))) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  const shard = (await loadUmdModule(join(dir, 'group1-shard1of1.min.js'))) as string;
  if (typeof shard !== 'string' || !topology.modelTopology) throw new VpeftError(`${dir}: unexpected nsfwjs model file layout`);
  const bytes = Buffer.from(shard, 'base64');
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: topology.modelTopology, weightSpecs: topology.weightsManifest[0]!.weights, weightData }),
  );
  return new LayersModelBackbone(model, { name: 'mobilenet_v2', featuresLayer: 'flatten_1' });
}
