import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend, readSafetensors } from '@vpeft/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPretrainedViTMnist, mnistToImages, MNIST_PRETRAIN_CLASSES, PRETRAINED_VIT_MNIST, pretrainedWeightsPath } from '../src/index';

const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
function digits(d: number, count: number): number[][] {
  const { data } = JSON.parse(readFileSync(join(digitsDir, `${d}.json`), 'utf8')) as { data: number[] };
  return Array.from({ length: count }, (_, i) => data.slice((data.length / 784 - 1 - i) * 784, (data.length / 784 - i) * 784));
}

beforeAll(async () => {
  await initBackend();
});

describe('vit_tiny_patch7_28_mnist04', () => {
  it('is a ViT of width 192, 6 blocks, 7x7 patches, and the file is under 25 MB', async () => {
    const vit = await loadPretrainedViTMnist();
    const d = 192;
    const block = 12 * d * d + 13 * d; // qkv 3d²+3d, proj d²+d, fc1/fc2 4d²+4d / 4d²+d, two LNs 4d
    expect(vit.parameters.count()).toBe(7 * 7 * 3 * d + d + d + 17 * d + 6 * block + 2 * d);
    expect(readFileSync(pretrainedWeightsPath()).byteLength).toBeLessThan(25 * 2 ** 20);
    vit.dispose();
  });

  it('classifies digits 0-4 with its pre-training head (real, trained weights)', async () => {
    const vit = await loadPretrainedViTMnist();
    const file = await readSafetensors(pretrainedWeightsPath());
    const model = applyPeft(vit, [], { numClasses: MNIST_PRETRAIN_CLASSES.length });
    const w = file.tensors.get('head.weight')!;
    model.parameters.variable('head.weight').assign(tf.transpose(tf.tensor2d(w.data, w.shape as [number, number])));
    model.parameters.variable('head.bias').assign(tf.tensor1d(file.tensors.get('head.bias')!.data));
    let correct = 0;
    const perClass = 40;
    for (const [label, digit] of MNIST_PRETRAIN_CLASSES.entries()) {
      const x = mnistToImages(digits(digit, perClass));
      const predicted = tf.tidy(() => tf.argMax(model.predict(x), 1).dataSync());
      correct += Array.from(predicted).filter((p) => p === label).length;
      x.dispose();
    }
    // Chance is 20%; a trained model gets most of them.
    expect(correct / (perClass * MNIST_PRETRAIN_CLASSES.length)).toBeGreaterThan(0.85);
    expect(PRETRAINED_VIT_MNIST.config.name).toBe('vit_tiny_patch7_28_mnist04');
    model.dispose({ backbone: true });
  });
});
