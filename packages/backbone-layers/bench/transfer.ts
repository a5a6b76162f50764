/**
 * Real transfer with the nsfwjs MobileNetV2 on a task disjoint from its pre-training data: the emoji
 * image categories (`@vpeft/datasets`' emoji set: 9 classes, VTAB-1k style 800 train / 200 val / test).
 * Linear probe on the pre-trained weights vs the same architecture with random weights, and BitFit vs
 * the linear probe. Input: RGB in [0, 1] at 224x224, as the model was trained.
 *
 *   npx tsx --conditions=@vpeft/source packages/backbone-layers/bench/transfer.ts [--epochs 2] [--skip-probes]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, describeBackend, initBackend, mulberry32, type Backbone } from '@vpeft/core';
import { batchCount, batches, emoji, vtabTransform, type ImageDataset } from '@vpeft/datasets';
import { bitfit } from '@vpeft/method-bitfit';
import { evaluate, fit } from '@vpeft/train';
import { loadNsfwjsMobileNetV2 } from '../src/index';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '2' }, 'skip-probes': { type: 'boolean', default: false } } });
const backend = await initBackend();
const transform = vtabTransform({ size: 224, normalization: 'unit' });
const [train, val, test] = await Promise.all([emoji('train800'), emoji('val200'), emoji('test')]);

async function features(backbone: Backbone, dataset: ImageDataset): Promise<{ x: tf.Tensor2D; y: tf.Tensor1D }> {
  const xs: tf.Tensor2D[] = [];
  const ys: tf.Tensor1D[] = [];
  for await (const b of batches(dataset, { batchSize: 32, transform })) {
    xs.push(tf.tidy(() => backbone.forward(b.x)));
    ys.push(b.y);
    b.x.dispose();
  }
  const out = { x: tf.concat(xs) as tf.Tensor2D, y: tf.concat(ys) as tf.Tensor1D };
  tf.dispose([...xs, ...ys]);
  return out;
}

/** Softmax regression on fixed features (full batch Adam), selected on val; returns test top-1. */
function linearProbe(trainF: { x: tf.Tensor2D; y: tf.Tensor1D }, valF: typeof trainF, testF: typeof trainF, classes: number): { val: number; test: number } {
  const d = trainF.x.shape[1];
  const w = tf.variable(tf.zeros([d, classes]));
  const b = tf.variable(tf.zeros([classes]));
  const optimizer = tf.train.adam(1e-2);
  const onehot = tf.oneHot(trainF.y, classes);
  // Standardise features with the train statistics (random-weight features have arbitrary scale).
  const { mean, variance } = tf.moments(trainF.x, 0);
  const std = tf.sqrt(tf.add(variance, 1e-6));
  const norm = (x: tf.Tensor2D) => tf.div(tf.sub(x, mean), std) as tf.Tensor2D;
  const accuracy = (f: typeof trainF) => tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(tf.add(tf.matMul(norm(f.x), w), b), 1), f.y), 'float32')).dataSync()[0]!);
  let best = { val: -1, test: 0 };
  for (let epoch = 1; epoch <= 300; epoch++) {
    optimizer.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(onehot, tf.add(tf.matMul(norm(trainF.x), w), b)), tf.mul(1e-3, tf.sum(tf.square(w)))) as tf.Scalar, false, [w, b]);
    if (epoch % 25 === 0) {
      const v = accuracy(valF);
      if (v > best.val) best = { val: v, test: accuracy(testF) };
    }
  }
  tf.dispose([w, b, onehot, mean, variance, std]);
  optimizer.dispose();
  return best;
}

function randomize(backbone: Backbone): void {
  const random = mulberry32(7);
  for (const p of backbone.parameters.list()) {
    const name = p.name.split('.').pop()!;
    const shape = p.variable.shape;
    let value: tf.Tensor;
    if (name === 'kernel' || name === 'depthwise_kernel') {
      const fanIn = shape.slice(0, -1).reduce((a, c) => a * c, 1) / (name === 'depthwise_kernel' ? shape[2]! : 1);
      const data = Float32Array.from({ length: p.variable.size }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) * Math.sqrt(2 / fanIn));
      value = tf.tensor(data, shape);
    } else if (name === 'gamma' || name === 'moving_variance') value = tf.ones(shape);
    else value = tf.zeros(shape);
    p.variable.assign(value);
    value.dispose();
  }
}

const rows: string[] = [];
const started = performance.now();
const pretrained = await loadNsfwjsMobileNetV2();
if (!values['skip-probes']) {
  const [trainF, valF, testF] = [await features(pretrained, train), await features(pretrained, val), await features(pretrained, test)];
  const lp = linearProbe(trainF, valF, testF, train.numClasses);
  rows.push(`| linear probe, pre-trained | ${1280 * train.numClasses + train.numClasses} | ${(100 * lp.val).toFixed(2)} | ${(100 * lp.test).toFixed(2)} | ${((performance.now() - started) / 1000).toFixed(0)} s |`);
  console.log(rows.at(-1));

  const t1 = performance.now();
  const random = await loadNsfwjsMobileNetV2();
  randomize(random);
  const rl = linearProbe(await features(random, train), await features(random, val), await features(random, test), train.numClasses);
  rows.push(`| linear probe, random weights | ${1280 * train.numClasses + train.numClasses} | ${(100 * rl.val).toFixed(2)} | ${(100 * rl.test).toFixed(2)} | ${((performance.now() - t1) / 1000).toFixed(0)} s |`);
  console.log(rows.at(-1));
  random.dispose();
}

const t2 = performance.now();
const model = applyPeft(pretrained, bitfit(), { numClasses: train.numClasses });
const epochs = Number(values.epochs);
const result = await fit(
  model,
  { stepsPerEpoch: batchCount(train.samples.length, 16), batches: ({ epoch, seed }) => batches(train, { batchSize: 16, shuffle: true, seed, epoch, transform }) },
  {
    epochs,
    optimizer: { learningRate: 3e-3, weightDecay: 1e-4 },
    schedule: { type: 'cosine', warmupEpochs: 0.5, warmupStartLr: 1e-5, minLr: 1e-5 },
    labelSmoothing: 0.1,
    // Micro-batches of 4: the tape of a 224x224 MobileNetV2 batch of 16 overflows the 4 GiB wasm heap.
    microBatch: 4,
    eval: () => batches(val, { batchSize: 32, transform }),
    restoreBest: true,
    onProgress: (e) => process.stderr.write(`\rBitFit step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} ${e.imagesPerSecond.toFixed(1)} img/s`),
  },
);
const testResult = await evaluate(model, batches(test, { batchSize: 32, transform }));
rows.push(`| BitFit (${epochs} epochs), pre-trained | ${model.summary().trainableTotal} | ${(100 * (result.best?.top1 ?? NaN)).toFixed(2)} | ${(100 * testResult.top1).toFixed(2)} | ${((performance.now() - t2) / 1000).toFixed(0)} s |`);
console.log(`\n${rows.at(-1)}`);

console.log(`\nbackend ${describeBackend(backend)}; emoji categories: ${train.numClasses} classes, ${train.samples.length} train / ${val.samples.length} val / ${test.samples.length} test`);
console.log(['| run (MobileNetV2 from nsfwjs) | trainable params | val top-1 % | test top-1 % | wall |', '|---|---|---|---|---|', ...rows].join('\n'));
