import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend } from '@vpeft/core';
import { bitEqual, snapshot, trainSteps } from '@vpeft/core/testing';
import { bitfit } from '@vpeft/method-bitfit';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNsfwjsMobileNetV2, type LayersModelBackbone } from '../src/index';

let backbone: LayersModelBackbone;
beforeAll(async () => {
  await initBackend();
  backbone = await loadNsfwjsMobileNetV2();
});

describe('BitFit on the pre-trained MobileNetV2', () => {
  it('selects the BatchNorm betas: 17,056 (Keras MobileNetV2 has 34,112 non-trainable BN statistics = 2 per channel)', () => {
    const model = applyPeft(backbone, bitfit(), { numClasses: 3 });
    expect(model.summary().trainableExcludingHead).toBe(34_112 / 2);
    expect(model.trainableParameters().filter((p) => p.owner === 'backbone').every((p) => p.name.endsWith('.beta'))).toBe(true);
    model.dispose();
  });

  it('trains only betas and the head; kernels, gammas and moving statistics stay bit-identical', () => {
    const model = applyPeft(backbone, bitfit(), { numClasses: 3 });
    const before = snapshot(model.parameters.list());
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    trainSteps(model, { x, y: tf.tensor1d([0, 2], 'int32') }, 1, { learningRate: 1e-2 });
    let changedBetas = 0;
    for (const p of model.parameters.list()) {
      const same = bitEqual(before.get(p.name)!, p.variable.dataSync() as Float32Array);
      if (!p.trainable) expect(same, `${p.name} frozen`).toBe(true);
      else if (p.name.endsWith('.beta') && !same) changedBetas++;
    }
    expect(changedBetas).toBeGreaterThan(40);
    x.dispose();
    model.dispose();
  });
});
