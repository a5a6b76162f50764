import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputNormalization } from '@vpeft/core';
import { LayersModelBackbone } from './layers-backbone';

/**
 * The MobileNetV2 of `nsfwjs@4` as a vpeft backbone: its registered name, the layer whose output is
 * the features (its 5-class head is dropped), and its input — `inputShape` RGB with
 * `inputNormalization` mean 0, std 1, i.e. pixels scaled to [0, 1], as nsfwjs feeds it. The loaded
 * backbone declares the same normalisation; `backboneTransform` (`@vpeft/datasets`) builds every
 * caller's preprocessing from it (or from this descriptor before the weights are loaded).
 */
export const MOBILENET_V2 = {
  name: 'mobilenet_v2',
  featuresLayer: 'flatten_1',
  inputShape: [224, 224, 3],
  inputNormalization: { mean: [0, 0, 0], std: [1, 1, 1] },
} as const satisfies { name: string; featuresLayer: string; inputShape: readonly [number, number, number]; inputNormalization: InputNormalization };

/**
 * Loads the nsfwjs MobileNetV2 as backbone `mobilenet_v2` from a tfjs model: the URL of its
 * `model.json` (weights fetched next to it), or any tfjs `IOHandler` (`tf.io.fromMemory`,
 * `tf.io.browserFiles`). Browser-safe; in Node, `loadNsfwjsMobileNetV2()` reads it from the nsfwjs
 * package.
 */
export async function loadMobileNetV2(source: string | tf.io.IOHandler): Promise<LayersModelBackbone> {
  const model = await tfl.loadLayersModel(source);
  const { name, featuresLayer, inputNormalization } = MOBILENET_V2;
  return new LayersModelBackbone(model, { name, featuresLayer, inputNormalization });
}
