/**
 * Real transfer with the nsfwjs MobileNetV2 on a task disjoint from its pre-training data: the emoji
 * image categories (`@vpeft/datasets`' emoji set: 9 classes, VTAB-1k style 800 train / 200 val / test).
 * Linear probe on the pre-trained weights vs the same architecture with random weights, and a PEFT
 * method vs the linear probe: LoRA r=8 on the 1x1 convs of the last four inverted-residual blocks and
 * the final 1x1 conv (`--method lora`, the default), or BitFit on every BatchNorm beta
 * (`--method bitfit`). Input: RGB in [0, 1] at 224x224, as the model was trained.
 *
 * LoRA on the last blocks trains ~2.5x faster than BitFit: tfjs back-propagates only from the first
 * trainable parameter on, so the frozen stem and early blocks (112x112 and 56x56 maps) cost a forward
 * pass only.
 *
 *   npx tsx --conditions=@vpeft/source packages/backbone-layers/bench/transfer.ts [--method lora|bitfit] [--epochs 10] [--learning-rate 3e-3] [--skip-probes]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, describeBackend, initBackend, mulberry32, type Backbone } from '@vpeft/core';
import { backboneTransform, batchCount, batches, emoji, type ImageDataset } from '@vpeft/datasets';
import { bitfit } from '@vpeft/method-bitfit';
import { lora } from '@vpeft/method-lora';
import { evaluate, fit } from '@vpeft/train';
import { loadNsfwjsMobileNetV2, MOBILENET_V2 } from '../src/index';

const { values } = parseArgs({
  options: {
    method: { type: 'string', default: 'lora' },
    epochs: { type: 'string', default: '10' },
    'learning-rate': { type: 'string' },
    'skip-probes': { type: 'boolean', default: false },
  },
});
/** The PEFT runs this script knows: the method, its label in the table, its learning rate and micro-batch. */
const RUNS = {
  lora: {
    label: 'LoRA r=8, 1x1 convs of blocks 13-16 + Conv_1',
    method: () => lora({ r: 8, alpha: 8, targets: ['block_1{3,4,5,6}_{expand,project}', 'Conv_1'] }),
    learningRate: 3e-3,
    // The tape of the frozen prefix is never back-propagated, so 8 images fit the heap.
    microBatch: 8,
  },
  bitfit: {
    label: 'BitFit (every BatchNorm beta)',
    method: () => bitfit(),
    learningRate: 3e-3,
    // The whole network is back-propagated: micro-batches of 8 keep its tape inside the 4 GiB wasm heap.
    microBatch: 8,
  },
} as const;
if (!(values.method! in RUNS)) throw new Error(`--method: expected one of ${Object.keys(RUNS).join(', ')}, got "${values.method}"`);
const run = RUNS[values.method as keyof typeof RUNS];
const backend = await initBackend();
const transform = backboneTransform({ pipeline: 'vtab' }, MOBILENET_V2, { train: false });
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
const model = applyPeft(pretrained, run.method(), { numClasses: train.numClasses });
const epochs = Number(values.epochs);
const result = await fit(
  model,
  { stepsPerEpoch: batchCount(train.samples.length, 16), batches: ({ epoch, seed }) => batches(train, { batchSize: 16, shuffle: true, seed, epoch, transform }) },
  {
    epochs,
    optimizer: { learningRate: values['learning-rate'] ? Number(values['learning-rate']) : run.learningRate, weightDecay: 1e-4 },
    schedule: { type: 'cosine', warmupEpochs: 0.5, warmupStartLr: 1e-5, minLr: 1e-5 },
    labelSmoothing: 0.1,
    microBatch: run.microBatch,
    eval: () => batches(val, { batchSize: 32, transform }),
    restoreBest: true,
    onProgress: (e) => {
      process.stderr.write(`\r${values.method} step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} ${e.imagesPerSecond.toFixed(1)} img/s`);
    },
  },
);
const testResult = await evaluate(model, batches(test, { batchSize: 32, transform }));
rows.push(`| ${run.label}, pre-trained, ${epochs} epochs | ${model.summary().trainableTotal} | ${(100 * (result.best?.top1 ?? NaN)).toFixed(2)} | ${(100 * testResult.top1).toFixed(2)} | ${((performance.now() - t2) / 1000).toFixed(0)} s |`);
console.log(`\n${rows.at(-1)}`);

console.log(`\nbackend ${describeBackend(backend)}; emoji categories: ${train.numClasses} classes, ${train.samples.length} train / ${val.samples.length} val / ${test.samples.length} test`);
console.log(['| run (MobileNetV2 from nsfwjs) | trainable params | val top-1 % | test top-1 % | wall |', '|---|---|---|---|---|', ...rows].join('\n'));
