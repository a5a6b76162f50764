import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyPeft, initBackend } from '@vpeft/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNsfwjsMobileNetV2, type LayersModelBackbone } from '../src/index';

let backbone: LayersModelBackbone;

beforeAll(async () => {
  await initBackend();
  backbone = await loadNsfwjsMobileNetV2();
});

describe('MobileNetV2 from nsfwjs', () => {
  it('has Keras MobileNetV2 (alpha 1.0, no top) parameter count: 2,257,984 of the 2,619,461 total', () => {
    // The nsfwjs model's own count is 2,619,461; its head (Dense 1280→256→128→5) has
    // 1280·256+256 + 256·128+128 + 128·5+5 = 361,477 parameters.
    expect(backbone.model.countParams()).toBe(2_619_461);
    expect(backbone.parameters.count()).toBe(2_619_461 - (1280 * 256 + 256 + 256 * 128 + 128 + 128 * 5 + 5));
    expect(backbone.featureDim).toBe(1280);
  });

  it('declares conv, depthwise, norm sites and features', () => {
    const sites = backbone.sites();
    expect(sites.filter((s) => s.kind === 'conv' && s.groups === 1)).toHaveLength(35);
    expect(sites.filter((s) => s.kind === 'conv' && (s.groups ?? 1) > 1)).toHaveLength(17);
    expect(sites.filter((s) => s.kind === 'norm')).toHaveLength(52);
    expect(sites.find((s) => s.name === 'Conv1')).toMatchObject({ kind: 'conv', inFeatures: 3, outFeatures: 32, kernelSize: [3, 3], strides: [2, 2], padding: 'valid' });
    expect(sites.at(-1)).toMatchObject({ name: 'features', kind: 'features', dim: 1280 });
  });

  it('computes the same features as the Keras model itself, and frozen BN ignores batch statistics', () => {
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const featuresModel = tf.tidy(() => {
      // Reference: tfjs-layers' own predict up to flatten_1 (an independent execution path).
      const keras = backbone.model;
      const truncated = tfl.model({ inputs: keras.inputs, outputs: keras.getLayer('flatten_1').output as tfl.SymbolicTensor });
      return truncated.predict(x) as tf.Tensor;
    });
    const ours = backbone.forward(x);
    expect(ours.shape).toEqual([2, 1280]);
    const diff = tf.max(tf.abs(tf.sub(featuresModel, ours))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-4);
    // Training mode: BN still uses its moving statistics, so a sample's features don't depend on the batch.
    const train = backbone.forward(x, { training: true });
    const single = backbone.forward(tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, { training: true });
    expect(tf.max(tf.abs(tf.sub(tf.slice(train, [0, 0], [1, -1]), single))).dataSync()[0]!).toBeLessThan(1e-4);
    tf.dispose([x, featuresModel, ours, train, single]);
  });

  it('a linear probe on it trains only the head', () => {
    const model = applyPeft(backbone, [], { numClasses: 3 });
    expect(model.trainableParameters().map((p) => p.name)).toEqual(['head.weight', 'head.bias']);
    expect(model.summary().backboneParams).toBe(2_257_984);
    model.dispose();
  });
});
