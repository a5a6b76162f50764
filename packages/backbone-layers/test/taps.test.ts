import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyPeft } from '@vpeft/core';
import { describeFrozenPartConformance, describeTapConformance } from '@vpeft/core/testing';
import { describe, expect, it } from 'vitest';
import { LayersModelBackbone } from '../src/index';

/** A tiny residual CNN: conv → [conv → add] → strided conv → [conv → add] → global pool → dense. */
function tinyResidualModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [12, 12, 3] });
  const kernel = (i: number) => tfl.initializers.randomNormal({ stddev: 0.3, seed: seed * 10 + i });
  const conv = (filters: number, i: number, strides = 1) =>
    tfl.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: kernel(i), biasInitializer: 'glorotUniform', name: `conv${i}` });
  const c1 = conv(6, 1).apply(input) as tfl.SymbolicTensor;
  const a1 = tfl.layers.add({ name: 'add1' }).apply([c1, conv(6, 2).apply(c1) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  const c3 = conv(8, 3, 2).apply(a1) as tfl.SymbolicTensor;
  const a2 = tfl.layers.add({ name: 'add2' }).apply([c3, conv(8, 4).apply(c3) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(a2) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 4, name: 'classifier' }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits });
}

const makeBackbone = (seed: number) => new LayersModelBackbone(tinyResidualModel(seed), { name: 'tiny_residual' });

describeTapConformance({ name: 'LayersModel (tiny residual CNN)', backbone: makeBackbone });

describeFrozenPartConformance({
  name: 'LayersModel (tiny residual CNN)',
  backbone: makeBackbone,
  // Logits and losses come out bit-identical; the gradients differ in the last bits (~4e-7).
  tolerance: 1e-6,
  cases: [
    { name: 'linear probe (every layer frozen)', model: (b) => applyPeft(b, [], { numClasses: 3 }) },
    {
      // Two frontier activations: conv3 feeds both conv4 (trained) and add2.
      name: 'conv4 trains (conv1-conv3 frozen, a two-branch frontier)',
      model: (b) => {
        const model = applyPeft(b, [], { numClasses: 3 });
        model.parameters.setTrainable('conv4.kernel', true);
        return model;
      },
    },
  ],
});

describe('LayersModel taps', () => {
  it('taps the residual Add layers and the features layer by default, or the layers named', () => {
    const backbone = makeBackbone(1);
    expect(backbone.sites().filter((s) => s.kind === 'tap').map((s) => [s.name, s.dim])).toEqual([['add1.output', 6], ['add2.output', 8], ['pool.output', 8]]);
    const named = new LayersModelBackbone(tinyResidualModel(1), { name: 'tiny_residual', taps: ['conv3'] });
    expect(named.sites().filter((s) => s.kind === 'tap').map((s) => s.name)).toEqual(['conv3.output']);
    expect(() => new LayersModelBackbone(tinyResidualModel(1), { name: 'tiny_residual', taps: ['classifier'] })).toThrow(/tap layer "classifier"/);
    backbone.dispose();
    named.dispose();
    tf.disposeVariables();
  });
});
