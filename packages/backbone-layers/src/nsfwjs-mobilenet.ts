import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '@vpeft/core';
import type { LayersModelBackbone } from './layers-backbone';
import { loadMobileNetV2 } from './mobilenet-v2';
import { nsfwjsMobileNetV2Dir, readNsfwjsMobileNetV2 } from './nsfwjs-files';

/**
 * The MobileNetV2 (alpha 1.0, 224x224) that ships inside the `nsfwjs@4` npm package: a Keras 2.2.4
 * functional model with uint8-quantised weights (dequantised to float32 on load), trained by the
 * nsfwjs authors (ImageNet-initialised MobileNetV2 fine-tuned on their 5-class image data). Loaded
 * offline as backbone `mobilenet_v2` with its 5-class head dropped: features are the 1280-d pooled
 * output (`flatten_1`). Input: NHWC float32 RGB in [0, 1], as nsfwjs feeds it (see `MOBILENET_V2`).
 */
export async function loadNsfwjsMobileNetV2(): Promise<LayersModelBackbone> {
  const dir = nsfwjsMobileNetV2Dir();
  if (!dir) throw new VpeftError('the pre-trained MobileNetV2 ships in the npm package nsfwjs@4; install it (npm i nsfwjs@4.4.0)');
  const { modelTopology, weightSpecs, weightData } = await readNsfwjsMobileNetV2(dir).catch((error: Error) => {
    throw new VpeftError(error.message);
  });
  const buffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer;
  return loadMobileNetV2(tf.io.fromMemory({ modelTopology, weightSpecs, weightData: buffer }));
}
