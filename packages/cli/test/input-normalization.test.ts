// The input normalisation a backbone declares is what `vpeft train` / `vpeft eval` feed it: [0, 1]
// pixels for nsfwjs's MobileNetV2 (as nsfwjs itself preprocesses), ImageNet mean/std for the ViTs.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend } from '@vpeft/core';
import { backboneTransform, decodeImage } from '@vpeft/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeRgbPng } from '../../datasets/test/fixtures';
import { resolveBackbone } from '../src/backbones';
import { runCli } from '../src/index';
import { discoverPlugins } from '../src/plugins';
import { captureOutput } from './capture-output';

const captured = captureOutput();

// ImageNet channel statistics (torchvision / timm IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD).
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

let root = '';
let cleanup = async () => {};
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('cli-input-norm'));
  await initBackend();
  await discoverPlugins();
});
afterAll(() => cleanup());

describe('the transform the CLI builds from the backbone', () => {
  it.each([
    ['mobilenet_v2', [224, 224], { mean: [0, 0, 0], std: [1, 1, 1] }],
    ['vit_test_patch8_32', [32, 32], IMAGENET],
    ['vit_tiny_patch7_28_mnist04', [28, 28], IMAGENET],
  ] as const)('%s: %j pixels, mean/std %j', async (name, [height, width], { mean, std }) => {
    const { backbone } = await resolveBackbone({ backbone: name });
    try {
      for (const pipeline of ['vtab', 'fgvc'] as const) {
        for (const train of [true, false]) {
          expect(backboneTransform({ pipeline }, backbone, { train })).toMatchObject({ height, width, mean, std });
        }
      }
    } finally {
      backbone.dispose();
    }
  });
});

/** `count` seeded 224x224 RGB images of soft colour blobs (raw bytes), distinct enough to get distinct logits. */
function images(count: number): Uint8Array[] {
  let state = 20261202;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: count }, () => {
    const blobs = Array.from({ length: 4 }, () => ({ x: random() * 224, y: random() * 224, r: 30 + random() * 80, rgb: [random(), random(), random()].map((v) => v * 255) }));
    const data = new Uint8Array(224 * 224 * 3);
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x++) {
        for (let c = 0; c < 3; c++) {
          const v = blobs.reduce((sum, b) => sum + b.rgb[c]! * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r)), 0);
          data[(y * 224 + x) * 3 + c] = Math.min(255, Math.round(v));
        }
      }
    }
    return data;
  });
}

describe('vpeft eval --adapter on mobilenet_v2', () => {
  it('predicts what the adapter gives on nsfwjs-style x / 255 pixels (not on ImageNet-normalised ones)', async () => {
    const pixels = images(8);
    const task = join(root, 'blobs');
    const paths = pixels.map((_, i) => `images/test/${String(i).padStart(6, '0')}.png`);
    await Promise.all(pixels.map((data, i) => writeRgbPng(join(task, paths[i]!), data, 224, 224)));
    // The 224x224 lossless PNGs decode, through the VTAB resize to 224x224, to exactly these bytes.
    const decoded = await decodeImage(join(task, paths[0]!), { resize: { mode: 'exact', width: 224, height: 224 } });
    expect(Buffer.from(decoded.data).equals(Buffer.from(pixels[0]!))).toBe(true);

    const { backbone } = await resolveBackbone({ backbone: 'mobilenet_v2' });
    const model = applyPeft(backbone, [], { numClasses: 2, seed: 3 });
    // Independent preprocessing: nsfwjs's `x / 255`, and the ImageNet one for contrast.
    const unit = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(pixels.flatMap((p) => Array.from(p))), [8, 224, 224, 3]), 255)) as tf.Tensor4D;
    const imagenet = tf.tidy(() => tf.div(tf.sub(unit, tf.tensor1d(IMAGENET.mean)), tf.tensor1d(IMAGENET.std))) as tf.Tensor4D;
    const margin = (x: tf.Tensor4D) => tf.tidy(() => {
      const logits = model.predict(x);
      return Array.from(tf.sub(tf.slice(logits, [0, 1], [-1, 1]), tf.slice(logits, [0, 0], [-1, 1])).dataSync());
    });
    // Bias the head so that the [0, 1] inputs split 4 / 4 between the classes (a 2-class task needs both).
    const unitMargin = margin(unit);
    const sorted = [...unitMargin].sort((a, b) => a - b);
    const threshold = (sorted[3]! + sorted[4]!) / 2;
    model.parameters.variable('head.bias').assign(tf.tensor1d([0, -threshold]));
    const labels = unitMargin.map((m) => (m > threshold ? 1 : 0));
    const imagenetLabels = margin(imagenet).map((m) => (m > 0 ? 1 : 0));
    // The check can tell the two preprocessings apart.
    expect(imagenetLabels).not.toEqual(labels);
    await model.saveAdapter(join(root, 'adapter'));
    tf.dispose([unit, imagenet]);
    model.dispose({ backbone: true });

    for (const split of ['train800', 'val200', 'test']) {
      await writeFile(join(task, `${split}.txt`), paths.map((p, i) => `${p} ${labels[i]}`).join('\n') + '\n');
    }
    expect(await runCli(['eval', '--backbone', 'mobilenet_v2', '--adapter', join(root, 'adapter'), '--data', `vtab1k:${root}:blobs`, '--json'])).toBe(0);
    const result = JSON.parse(captured.stdout) as { top1: number; count: number };
    expect(result.count).toBe(8);
    expect(result.top1).toBe(1);
  });
});
