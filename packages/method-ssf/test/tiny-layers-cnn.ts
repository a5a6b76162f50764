import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LayersModelBackbone } from '@vpeft/backbone-layers';
import { hashSeed } from '@vpeft/core';

/**
 * A tiny MobileNet-style Keras CNN as a vpeft backbone (8x8x3 input): `conv` 3x3 stride 2 without
 * bias → `conv_bn` → ReLU6 → `dw` depthwise 3x3 → `dw_bn` → ReLU → `project` 1x1 with bias (linear)
 * → global average pool. Every weight is seeded random (BN variances positive), so the same seed
 * gives the same backbone.
 */
export function tinyLayersCnn(seed: number): LayersModelBackbone {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'conv_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'conv_relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'dw_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: 'dw_relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 1, useBias: true, name: 'project' }).apply(x) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: pooled, name: 'tiny_cnn' });
  for (const weight of model.weights) {
    const short = weight.originalName.split('/').pop()!;
    const s = hashSeed(weight.originalName, seed);
    const value = tf.tidy(() => {
      const noise = tf.randomNormal(weight.shape as number[], 0, 0.3, 'float32', s);
      if (short.startsWith('moving_variance')) return tf.add(tf.abs(noise), 0.5);
      if (short.startsWith('gamma')) return tf.add(noise, 1);
      return noise;
    });
    weight.write(value);
    value.dispose();
  }
  return new LayersModelBackbone(model, { name: 'tiny_cnn', featuresLayer: 'pool' });
}
