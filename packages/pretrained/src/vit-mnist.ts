import * as tf from '@tensorflow/tfjs-core';
import { resolveViTConfig, type ViTConfig } from '@vpeft/core';

/** The MNIST digits the model was pre-trained on (its class order). Digits 5-9 were never seen. */
export const MNIST_PRETRAIN_CLASSES = [0, 1, 2, 3, 4] as const;

/** ImageNet mean/std, applied to the grey digit replicated to RGB (as the VTAB pipeline does). */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** A pre-trained backbone that ships with this package. */
export interface PretrainedModel {
  config: ViTConfig;
  /** File name under this package's `weights/`. */
  file: string;
  description: string;
}

/** ViT-Ti width (192), 6 blocks, 28x28 input in 7x7 patches, pre-trained on MNIST digits 0-4. */
export const PRETRAINED_VIT_MNIST: PretrainedModel = {
  config: resolveViTConfig({
    name: 'vit_tiny_patch7_28_mnist04',
    imageSize: 28,
    patchSize: 7,
    inChannels: 3,
    embedDim: 192,
    depth: 6,
    numHeads: 3,
    mlpDim: 768,
  }),
  file: 'vit_tiny_patch7_28_mnist04.safetensors',
  description: 'ViT (width 192, 6 blocks, 28x28, patch 7) pre-trained on MNIST digits 0-4 (see MODEL_CARD.json)',
};

/**
 * MNIST digits (784 values in [0, 1] each) to the model's input: `[B, 28, 28, 3]`, grey replicated
 * to RGB and normalised with ImageNet mean/std.
 */
export function mnistToImages(digits: readonly ArrayLike<number>[]): tf.Tensor4D {
  const out = new Float32Array(digits.length * 784 * 3);
  digits.forEach((pixels, n) => {
    for (let p = 0; p < 784; p++) {
      const v = pixels[p]!;
      for (let c = 0; c < 3; c++) out[(n * 784 + p) * 3 + c] = (v - MEAN[c]!) / STD[c]!;
    }
  });
  return tf.tensor4d(out, [digits.length, 28, 28, 3]);
}
