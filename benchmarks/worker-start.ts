/**
 * What starting data-parallel workers costs against what they save: the criterion of
 * `vpeft train --workers auto` (@vpeft/train's MIN_AUTO_WORKER_SECONDS).
 *
 *   pnpm bench:worker-start [--backbones vit_test_patch8_32,vit_tiny_patch7_28_mnist04] [--batch 32] [--steps 5]
 *
 * For each backbone (LoRA r=4, 10 classes, wasm): the median one-thread step time, the time to start
 * 2 workers (createDataParallelTrainer: spawn, tfjs + wasm set-up, model rebuild, weight copy), the
 * 2-worker step time, the break-even number of steps (start cost / time saved per step), and the
 * one-thread estimate `chooseWorkers` makes from two-image forward passes.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend, loadBackbone } from '@vpeft/core';
import '@vpeft/pretrained';
import { lora } from '@vpeft/method-lora';
import { createDataParallelTrainer, estimateStepSeconds, lossGradients } from '@vpeft/train';
import { timedMedian } from './lib/train-step';

const { values } = parseArgs({
  options: {
    backbones: { type: 'string', default: 'vit_test_patch8_32,vit_tiny_patch7_28_mnist04' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
await initBackend({ backend: 'wasm' });
console.log(`load average at start: ${loadavg()[0]!.toFixed(2)}; batch ${batch}; 2 workers`);


for (const name of values.backbones!.split(',')) {
  const model = applyPeft(await loadBackbone(name), [lora({ r: 4 })], { numClasses: 10, seed: 0 });
  const [h, w, c] = model.backbone.inputShape;
  const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10).toFloat() as tf.Tensor2D;
  const optimizer = tf.train.adam(1e-4);
  const estimate = await estimateStepSeconds(model, batch);
  const one = await timedMedian(async () => {
    const { grads } = await lossGradients(model, x, y);
    optimizer.applyGradients(grads as Record<string, tf.Variable>);
    tf.dispose(grads);
  }, steps);
  const t0 = performance.now();
  const trainer = await createDataParallelTrainer(model, { workers: 2 });
  const start = (performance.now() - t0) / 1000;
  const two = await timedMedian(() => trainer.step(x, y, optimizer), steps);
  await trainer.dispose();
  const breakEven = one > two ? Math.ceil(start / (one - two)) : Infinity;
  console.log(`${name}: 1 thread ${(one * 1000).toFixed(1)} ms/step (estimate ${(estimate * 1000).toFixed(1)}), 2 workers ${(two * 1000).toFixed(1)} ms/step, start ${start.toFixed(2)} s, break-even ${breakEven} steps`);
  tf.dispose([x, y]);
  model.dispose({ backbone: true });
}
