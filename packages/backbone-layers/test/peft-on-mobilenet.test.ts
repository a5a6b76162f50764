import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend, type SiteRunner } from '@vpeft/core';
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

describe('training cost on the frozen MobileNetV2', () => {
  it('a BitFit step computes no frozen-kernel gradient and no full-size Tile (lean conv and BatchNorm backward)', async () => {
    const model = applyPeft(backbone, bitfit(), { numClasses: 3 });
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1], 'int32');
    const info = await tf.profile(() => trainSteps(model, { x, y }, 1, { learningRate: 1e-3 }));
    const kernels = new Set(info.kernels.map((k) => k.name));
    // Input gradients flow through every conv (the betas sit all along the network)...
    expect(kernels.has('Conv2DBackpropInput')).toBe(true);
    // ...but no conv kernel is trainable, and tfjs's fused conv / batch-norm gradients would add these.
    expect(kernels.has('Conv2DBackpropFilter')).toBe(false);
    expect(kernels.has('DepthwiseConv2dNativeBackpropFilter')).toBe(false);
    expect(kernels.has('Tile')).toBe(false);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('a frozen prefix runs off the tape', () => {
  // block_14_project sits inside a residual block: the frozen part then hands over two activations
  // (its input, and block 13's output that the residual add consumes), packed into one tensor.
  it.each([[['block_16_project', 'Conv_1']], [['block_14_project']]])('LoRA on %j: the same gradients as a fully taped pass, a fraction of the live memory', async (targets) => {
    const { lora } = await import('@vpeft/method-lora');
    const { maxAbsDiff } = await import('@vpeft/core/testing');
    const model = applyPeft(backbone, lora({ r: 4, targets }), { numClasses: 3 });
    // A non-zero head, so gradient reaches the LoRA factors (B starts at zero, A gets none until B moves).
    const head = model.parameters.variable('head.weight');
    head.assign(tf.randomNormal(head.shape, 0, 0.1, 'float32', 8));
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3);
    const variables = model.trainableParameters().map((p) => p.variable);
    const pass = (sites: SiteRunner) => {
      let bytes = 0;
      const { value, grads } = tf.variableGrads(() => {
        const features = backbone.forward(x, { training: true, sites });
        bytes = tf.memory().numBytes;
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(features, head), model.parameters.variable('head.bias')));
      }, variables);
      value.dispose();
      return { grads, bytes };
    };
    const runner = model.chains.runner(true);
    const lean = pass(runner);
    // The same runner without `active`: the backbone cannot tell what is frozen and tapes everything.
    const full = pass({ run: runner.run });
    for (const v of variables) {
      const a = lean.grads[v.name]!.dataSync();
      expect(maxAbsDiff(a, full.grads[v.name]!.dataSync()), v.name).toBeLessThan(1e-6);
      if (/lora_B|head/.test(v.name)) expect(Math.max(...Array.from(a, Math.abs)), v.name).toBeGreaterThan(0);
    }
    expect(lean.bytes).toBeLessThan(full.bytes / 4);
    tf.dispose([x, y, ...Object.values(lean.grads), ...Object.values(full.grads)]);
    model.dispose();
  });
});

describe('LoRA and a conv adapter on named MobileNetV2 layers', () => {
  it('start at the backbone output, train only their own parameters and the head, and LoRA merges', async () => {
    const { lora } = await import('@vpeft/method-lora');
    const { convAdapter } = await import('@vpeft/method-adapter');
    const { compose, applyPeft: apply } = await import('@vpeft/core');
    const { maxAbsDiff } = await import('@vpeft/core/testing');
    const model = apply(backbone, compose(lora({ r: 4, targets: ['block_16_project', 'Conv_1'] }), convAdapter({ targets: ['block_15_expand'], bottleneck: 4 })), { numClasses: 3 });
    // LoRA on two 1x1 convs: r·(in + out) each; the adapter: down 1x1·960→4 + 4, up 4→960 + 960 (block_15_expand: 160 → 960).
    expect(model.summary().trainableExcludingHead).toBe(4 * (960 + 320) + 4 * (320 + 1280) + (160 * 4 + 4 + 4 * 960 + 960));
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const plain = backbone.forward(x);
    const withMethods = model.features(x);
    expect(maxAbsDiff(plain.dataSync(), withMethods.dataSync())).toBeLessThan(1e-5);
    const before = snapshot(model.parameters.list());
    trainSteps(model, { x, y: tf.tensor1d([1, 2], 'int32') }, 2, { learningRate: 1e-2 });
    for (const p of model.parameters.list()) {
      const same = bitEqual(before.get(p.name)!, p.variable.dataSync() as Float32Array);
      expect(same, p.name).toBe(!p.trainable);
    }
    const unmerged = model.predict(x);
    model.merge();
    const merged = model.predict(x);
    expect(maxAbsDiff(unmerged.dataSync(), merged.dataSync())).toBeLessThan(1e-4);
    model.unmerge();
    tf.dispose([x, plain, withMethods, unmerged, merged]);
    model.dispose();
  });
});
