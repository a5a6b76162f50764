import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@vpeft/core';
import { describeBackboneConformance } from '@vpeft/core/testing';
import { describe, expect, it } from 'vitest';
import { LayersModelBackbone } from '../src/index';

/**
 * A tiny Keras-style CNN, seeded: a 3x3 stem conv with a fused ReLU, batch norm, a residual block of
 * 1x1 expand, 3x3 depthwise and 1x1 project convs, pooling and a dense classifier (dropped as the head).
 */
function tinyCnn(seed: number): LayersModelBackbone {
  const init = (i: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: seed * 100 + i });
  const input = tfl.input({ shape: [8, 8, 3] });
  const stem = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(0), name: 'stem' }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'stem_bn', betaInitializer: init(1), gammaInitializer: 'ones', movingMeanInitializer: init(2) }).apply(stem) as tfl.SymbolicTensor;
  const expand = tfl.layers.conv2d({ filters: 8, kernelSize: 1, kernelInitializer: init(3), biasInitializer: init(4), name: 'block_expand' }).apply(bn) as tfl.SymbolicTensor;
  const depthwise = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: init(5), name: 'block_depthwise' }).apply(expand) as tfl.SymbolicTensor;
  const relu = tfl.layers.reLU({ name: 'block_relu' }).apply(depthwise) as tfl.SymbolicTensor;
  const project = tfl.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: init(6), name: 'block_project' }).apply(relu) as tfl.SymbolicTensor;
  const add = tfl.layers.add({ name: 'block_add' }).apply([bn, project]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(add) as tfl.SymbolicTensor;
  const hidden = tfl.layers.dense({ units: 6, kernelInitializer: init(7), name: 'fc' }).apply(pooled) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 3, name: 'classifier' }).apply(hidden) as tfl.SymbolicTensor;
  return new LayersModelBackbone(tfl.model({ inputs: input, outputs: head }), { name: 'tiny_cnn', featuresLayer: 'fc' });
}

/** The tiny CNN, built inside a tidy so the initialisers' temporaries are freed (variables survive). */
function tidyCnn(seed: number): LayersModelBackbone {
  let backbone: LayersModelBackbone | undefined;
  tf.tidy(() => {
    backbone = tinyCnn(seed);
  });
  return backbone!;
}

describeBackboneConformance({ name: 'LayersModel (tiny residual CNN built with tfjs-layers)', backbone: tidyCnn });

describe('LayersModel site roles, from the Keras graph', () => {
  it('1x1 convs are pointwise, kxk spatial, depthwise depthwise; batch norm is norm, Dense dense, the features head-input', async () => {
    await initBackend();
    const backbone = tidyCnn(1);
    const roles = Object.fromEntries(backbone.sites().filter((s) => s.kind !== 'tap').map((s) => [s.name, s.role]));
    expect(roles).toEqual({
      stem: 'conv.spatial', stem_bn: 'norm', block_expand: 'conv.pointwise', block_depthwise: 'conv.depthwise',
      block_project: 'conv.pointwise', fc: 'dense', features: 'head-input',
    });
    // One resolution (8x8, no downsampling): one stage for every image-shaped layer; Dense has none.
    expect(backbone.sites().filter((s) => s.kind === 'conv').every((s) => s.stage === 0)).toBe(true);
    expect(backbone.sites().find((s) => s.name === 'fc')!.stage).toBeUndefined();
    backbone.dispose();
  });
});
