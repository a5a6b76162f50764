import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend, type SiteRunner } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch, trainSteps } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { beforeAll, describe, expect, it } from 'vitest';
import { side } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe('the side network', () => {
  it('equals an independent LST forward over the backbone taps (after training steps moved every parameter)', () => {
    const backbone = createTestViT(1);
    const model = applyPeft(backbone, side({ reduction: 4 }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 2);
    const T = 0.1;
    const tapNames = backbone.sites().filter((s) => s.kind === 'tap').map((s) => s.name);
    const taps = new Map<string, tf.Tensor3D>();
    const record: SiteRunner = {
      run: (name, input, op) => {
        if (tapNames.includes(name)) taps.set(name, tf.keep((input as tf.Tensor3D).clone()));
        return op(input);
      },
      active: (name) => tapNames.includes(name),
    };
    const actual = model.features(batch.x);
    const expected = tf.tidy(() => {
      const features = backbone.forward(batch.x, { sites: record });
      const v = (name: string) => model.parameters.variable(`side.${name}`);
      const dense = (x: tf.Tensor3D, at: string) => {
        const [b, n, d] = x.shape;
        const w = v(`${at}.weight`);
        return tf.add(tf.reshape(tf.matMul(tf.reshape(x, [b * n, d]), w), [b, n, w.shape[1]!]), v(`${at}.bias`)) as tf.Tensor3D;
      };
      const layerNorm = (x: tf.Tensor3D, at: string) => {
        const mean = tf.mean(x, -1, true);
        const variance = tf.mean(tf.square(tf.sub(x, mean)), -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), v(`${at}.weight`)), v(`${at}.bias`)) as tf.Tensor3D;
      };
      const geluErf = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
      const sigmoid = (alpha: tf.Tensor) => 1 / (1 + Math.exp(-alpha.dataSync()[0]! / T));
      const heads = 4;
      const attention = (x: tf.Tensor3D, at: string) => {
        const [b, n, w] = x.shape;
        const hd = w / heads;
        const qkv = dense(x, `${at}.qkv`);
        const part = (i: number) => tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, i * w], [b, n, w]), [b, n, heads, hd]), [0, 2, 1, 3]);
        const weights = tf.softmax(tf.div(tf.matMul(part(0), part(1), false, true), Math.sqrt(hd)));
        const context = tf.reshape(tf.transpose(tf.matMul(weights, part(2)), [0, 2, 1, 3]), [b, n, w]) as tf.Tensor3D;
        return dense(context, `${at}.proj`);
      };
      let h = dense(taps.get('embed.output')!, 'embed.output.downsample');
      for (const name of tapNames.slice(1)) {
        const g = sigmoid(v(`${name}.gate`));
        h = tf.add(tf.mul(h, g), tf.mul(dense(taps.get(name)!, `${name}.downsample`), 1 - g));
        h = tf.add(h, attention(layerNorm(h, `${name}.block.norm1`), `${name}.block.attn`));
        h = tf.add(h, dense(geluErf(dense(layerNorm(h, `${name}.block.norm2`), `${name}.block.mlp.fc1`)) as tf.Tensor3D, `${name}.block.mlp.fc2`));
      }
      const [b, , w] = h.shape;
      const cls = tf.reshape(tf.slice(layerNorm(h, 'features.norm'), [0, 0, 0], [b, 1, w]), [b, 1, w]) as tf.Tensor3D;
      const up = tf.reshape(dense(cls, 'features.upsample'), [b, -1]);
      const g = sigmoid(v('features.gate'));
      return tf.add(tf.mul(up, g), tf.mul(features, 1 - g));
    });
    expect(maxAbsDiff(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    tf.dispose([actual, expected, batch.x, batch.y, ...taps.values()]);
    model.dispose({ backbone: true });
  });

  it('never backpropagates through the backbone: zero input gradient, a fraction of LoRA\'s live training memory', () => {
    const measure = (methods: Parameters<typeof applyPeft>[1]) => {
      const backbone = createTestViT(1);
      const model = applyPeft(backbone, methods, { numClasses: 3 });
      const { x, y } = randomBatch(backbone, 4, 3);
      const labels = tf.oneHot(y, 3);
      let bytes = 0;
      const inputGradient = tf.grad((images: tf.Tensor) => {
        const before = tf.memory().numBytes;
        const logits = model.forward(images as tf.Tensor4D, { training: true });
        bytes = tf.memory().numBytes - before;
        return tf.losses.softmaxCrossEntropy(labels, logits);
      })(x);
      const maxInputGradient = tf.max(tf.abs(inputGradient)).dataSync()[0]!;
      tf.dispose([x, y, labels, inputGradient]);
      model.dispose({ backbone: true });
      return { bytes, maxInputGradient };
    };
    const sideRun = measure(side({ reduction: 4 }));
    // LoRA from the patch embedding on: the whole backbone is on the tape, so images get a gradient.
    const loraRun = measure(lora({ r: 4, targets: ['patch_embed.proj', 'blocks.*.attn.qkv'] }));
    expect(sideRun.maxInputGradient).toBe(0);
    expect(loraRun.maxInputGradient).toBeGreaterThan(0);
    expect(sideRun.bytes, `side ${sideRun.bytes} B vs LoRA ${loraRun.bytes} B live after the training forward`).toBeLessThan(loraRun.bytes / 2);
  });
});
