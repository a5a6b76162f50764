/**
 * Routing cost of multi-task training: img/s of one training step on a mixed batch (two tasks,
 * samples interleaved, routed inside the step) vs the same images as one step per task, one after
 * the other, vs one single-task batch of the same size (no routing). Each step is the gradient
 * (`multiTaskGradients`, forward + backward) plus the AdamW update.
 *
 *   pnpm bench:multitask --backend wasm --batch 32 --steps 5
 *
 * Backbone: the shipped pre-trained `vit_tiny_patch7_28_mnist04`; shared LoRA r=8 (q, v) and an
 * adapter per task (10 and 5 classes). Images are seeded noise: speed does not depend on content.
 * Prints the median img/s over `--steps` rounds (after one warm-up round; each round runs every mode once). A script, never a timed test.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend, type BackendChoice } from '@vpeft/core';
import { adapter } from '@vpeft/method-adapter';
import { lora } from '@vpeft/method-lora';
import { createMultiTaskModel, multiTaskGradients, type MultiTaskBatch } from '@vpeft/multitask';
import { loadPretrainedViTMnist } from '@vpeft/pretrained';
import { AdamW, decaysWeight } from '@vpeft/train';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const backend = await initBackend({ backend: values.backend as BackendChoice | 'auto' });
const batch = Number(values.batch);
const steps = Number(values.steps);
if (!Number.isInteger(batch) || batch < 2 || batch % 2 || !Number.isInteger(steps) || steps < 1) throw new Error('--batch must be an even integer >= 2 and --steps a positive integer');

const backbone = await loadPretrainedViTMnist();
const model = createMultiTaskModel(backbone, {
  shared: lora({ r: 8, alpha: 8 }),
  tasks: [
    { name: 'digits', numClasses: 5, methods: adapter() },
    { name: 'emoji', numClasses: 9, methods: adapter() },
  ],
  seed: 0,
});
const optimizer = new AdamW(model.trainableParameters().map((p) => ({ name: p.name, variable: p.variable, decay: decaysWeight(p) })), { learningRate: 1e-4, weightDecay: 1e-4 });
const [h, w, c] = backbone.inputShape;

function makeBatch(tasks: string[], seed: number): MultiTaskBatch {
  return {
    x: tf.randomNormal([tasks.length, h, w, c], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.tensor1d(tasks.map((_, i) => i % 5), 'int32'),
    tasks,
  };
}
const half = batch / 2;
const mixed = makeBatch(Array.from({ length: batch }, (_, i) => (i % 2 ? 'emoji' : 'digits')), 1);
const perTask = [makeBatch(Array(half).fill('digits'), 2), makeBatch(Array(half).fill('emoji'), 3)];
const single = makeBatch(Array(batch).fill('digits'), 4);

function step(b: MultiTaskBatch): void {
  const { grads } = multiTaskGradients(model, b, { labelSmoothing: 0.1 });
  optimizer.applyGradients(grads);
  tf.dispose(grads);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median img/s of each mode over `steps` rounds after one warm-up round; a round runs every mode once,
 * in turn, so a change in machine load hits all modes alike.
 */
function measure(modes: Array<{ mode: string; run: () => void }>): Array<{ mode: string; imagesPerSecond: number }> {
  const rates = modes.map(() => [] as number[]);
  for (let round = 0; round <= steps; round++) {
    modes.forEach(({ run }, m) => {
      const t0 = performance.now();
      run();
      if (round > 0) rates[m]!.push(batch / ((performance.now() - t0) / 1000));
    });
  }
  return modes.map(({ mode }, m) => ({ mode, imagesPerSecond: median(rates[m]!) }));
}

const rows = measure([
  { mode: `mixed batch of ${batch} (2 tasks interleaved), routed in one step`, run: () => step(mixed) },
  { mode: `the same tasks one after another (2 steps of ${half})`, run: () => perTask.forEach(step) },
  { mode: `one task, batch of ${batch} (no routing)`, run: () => step(single) },
]);
const result = { backend: describeBackend(backend), backbone: 'vit_tiny_patch7_28_mnist04', methods: 'shared lora r=8 + adapter per task', batch, steps, rows };
if (values.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`backend ${result.backend}; ${result.backbone}; ${result.methods}; median of ${steps} interleaved rounds`);
  console.log('| step | img/s |\n|---|---|');
  for (const r of rows) console.log(`| ${r.mode} | ${r.imagesPerSecond.toFixed(1)} |`);
  console.log(`routed mixed batch vs tasks one after another: ${(rows[0]!.imagesPerSecond / rows[1]!.imagesPerSecond).toFixed(2)}x`);
}
tf.dispose([mixed.x, mixed.y, single.x, single.y, ...perTask.flatMap((b) => [b.x, b.y])]);
optimizer.dispose();
model.dispose({ backbone: true });
