import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPeft, compose, createViT, initBackend, OptionError, vitConfigs } from '../src/index';
import { biasSelect, failsAtSecondSite, outputScale } from './fixtures/test-methods';

beforeAll(async () => {
  await initBackend();
});

const config = vitConfigs.vit_test_patch8_32;
const classes = 5;
const head = config.embedDim * classes + classes;

describe('applyPeft', () => {
  it('freezes the backbone, builds each method at its targets, selects parameters and adds the head', () => {
    const vit = createViT('vit_test_patch8_32');
    vit.parameters.unfreeze('**');
    const model = applyPeft(vit, compose(outputScale.configure(), biasSelect.configure()), { numClasses: classes, seed: 3 });
    const scales = model.parameters.list().filter((p) => p.owner === 'core-test-scale');
    expect(scales.map((p) => p.name)).toEqual(['core-test-scale.blocks.0.mlp.fc1.scale', 'core-test-scale.blocks.1.mlp.fc1.scale']);
    // Block 0's biases with role 'bias': qkv 3d, proj d, fc1 mlpDim, fc2 d (norm biases have their own role).
    const selectedBiases = 3 * config.embedDim + config.embedDim + config.mlpDim + config.embedDim;
    const selected = model.parameters.list().filter((p) => p.selectedBy === 'core-test-bias');
    expect(selected.reduce((n, p) => n + p.variable.size, 0)).toBe(selectedBiases);
    expect(model.parameters.count((p) => p.trainable)).toBe(config.depth * config.mlpDim + selectedBiases + head);
    expect(model.backbone.parameters.list().filter((p) => p.trainable).every((p) => p.selectedBy === 'core-test-bias')).toBe(true);
    expect(model.parameters.get('head.weight').variable.shape).toEqual([config.embedDim, classes]);
    expect(model.seed).toBe(3);
    model.dispose({ backbone: true });
  });

  it('with no methods is a linear probe: only the head trains', () => {
    const model = applyPeft(createViT('vit_test_patch8_32'), [], { numClasses: classes });
    expect(model.trainableParameters().map((p) => p.name)).toEqual(['head.weight', 'head.bias']);
    model.dispose({ backbone: true });
  });

  it('checks numClasses and classNames', () => {
    const vit = createViT('vit_test_patch8_32');
    expect(() => applyPeft(vit, [], { numClasses: 0 })).toThrow(/applyPeft: option `numClasses` got 0/);
    expect(() => applyPeft(vit, [], { numClasses: 2, classNames: ['a'] })).toThrow(OptionError);
    vit.dispose();
  });

  it('rolls back when a method fails: no tensor left behind, the backbone\'s flags as they were, still usable', () => {
    const vit = createViT('vit_test_patch8_32');
    vit.parameters.unfreeze('norm.*');
    const flags = () => vit.parameters.list().map((p) => `${p.name}:${p.trainable}:${p.variable.trainable}:${p.selectedBy ?? ''}`);
    const before = flags();
    const tensors = tf.memory().numTensors;
    // The bias selector and the scales succeed first; the failing method has built one module when it throws.
    expect(() => applyPeft(vit, compose(biasSelect.configure(), outputScale.configure(), failsAtSecondSite.configure()), { numClasses: classes }))
      .toThrow(/core-test-fails: refusing blocks\.1\.mlp\.fc2/);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(flags()).toEqual(before);
    const model = applyPeft(vit, outputScale.configure(), { numClasses: classes });
    const logits = model.predict(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D);
    expect(logits.shape).toEqual([1, classes]);
    logits.dispose();
    model.dispose({ backbone: true });
  });
});
