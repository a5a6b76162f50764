import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LayersModelBackbone } from './layers-backbone';

/**
 * The MobileNetV2 of `nsfwjs@4` as a vpeft backbone: its registered name, the layer whose output is
 * the features (its 5-class head is dropped), and its input — `imageSize` x `imageSize` RGB with
 * `normalization` (a `@vpeft/datasets` transform's normalisation: `unit` is RGB scaled to [0, 1],
 * as nsfwjs feeds it). Node's bench and the web app build their transforms from these fields.
 */
export const MOBILENET_V2 = {
  name: 'mobilenet_v2',
  featuresLayer: 'flatten_1',
  imageSize: 224,
  normalization: 'unit',
} as const;

/**
 * Loads the nsfwjs MobileNetV2 as backbone `mobilenet_v2` from a tfjs model: the URL of its
 * `model.json` (weights fetched next to it), or any tfjs `IOHandler` (`tf.io.fromMemory`,
 * `tf.io.browserFiles`). Browser-safe; in Node, `loadNsfwjsMobileNetV2()` reads it from the nsfwjs
 * package.
 */
export async function loadMobileNetV2(source: string | tf.io.IOHandler): Promise<LayersModelBackbone> {
  const model = await tfl.loadLayersModel(source);
  return new LayersModelBackbone(model, { name: MOBILENET_V2.name, featuresLayer: MOBILENET_V2.featuresLayer });
}
