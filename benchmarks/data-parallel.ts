/**
 * Does data-parallel training on worker_threads beat one thread? (wasm in Node computes on one thread.)
 *
 *   pnpm bench:parallel --modes full,lora,linear --batch 8,32 --workers 2 --steps 3 [--check]
 *
 * Same step semantics as benchmarks/speed.ts: @vpeft/train's createDataParallelTrainer splits each batch
 * across --workers workers (each its own tfjs + wasm instance and heap, micro-batched by
 * --micro-batch inside), averages their gradients weighted by image count, and Adam updates the main
 * thread's variables. Prints wall-clock img/s against the single-thread step on the same machine,
 * and with --check the largest difference between the two gradients. `--modes inference` times
 * logits instead: `model.predict` on this thread against the trainer's `predict` on the workers (as
 * `fit` scores its evaluations when it trains on workers).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createViT, describeBackend, initBackend } from '@vpeft/core';
import { createDataParallelTrainer, lossGradients } from '@vpeft/train';
import { buildSetting, SETTINGS_MODULE, type SettingName } from './lib/settings';
import { createTrainStep, timedMedian } from './lib/train-step';

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: 'full,lora,linear' },
    batch: { type: 'string', default: '8,32' },
    workers: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
    'micro-batch': { type: 'string', default: '8' },
    'no-fast-kernels': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
  },
});
const NUM_CLASSES = 10;
const workers = Number(values.workers);
const steps = Number(values.steps);
const microBatch = Number(values['micro-batch']);
const backend = await initBackend({ backend: 'wasm', fastKernels: !values['no-fast-kernels'] });
console.log(`load average at start: ${loadavg()[0]!.toFixed(2)}; ${describeBackend(backend)}; ${workers} workers; micro-batch ${microBatch}`);


const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
const table: string[] = [];
for (const mode of values.modes!.split(',') as SettingName[]) {
  const built = await buildSetting(vit, mode, NUM_CLASSES);
  if ('skip' in built) {
    console.log(`${mode}: skipped: ${built.skip}`);
    continue;
  }
  const { model } = built;
  const trainer = await createDataParallelTrainer(model, { imports: [SETTINGS_MODULE], workers, microBatch });
  for (const batch of values.batch!.split(',').map(Number)) {
    const x = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % NUM_CLASSES), 'int32');
    const oneHot = tf.oneHot(y, NUM_CLASSES) as tf.Tensor2D;
    if (values.check) {
      const single = await lossGradients(model, x, oneHot, { microBatch });
      const parallel = await trainer.gradients(x, oneHot);
      const diff = Math.max(...Object.keys(single.grads).map((k) => tf.tidy(() => tf.max(tf.abs(tf.sub(single.grads[k]!, parallel.grads[k]!))).dataSync()[0]!)));
      console.log(`${mode} b${batch}: max |grad(${workers} workers) - grad(1 thread)| = ${diff.toExponential(2)}`);
      tf.dispose([single.grads, parallel.grads]);
    }
    if (mode === 'inference') {
      // Logits in inference mode: model.predict on this thread against trainer.predict on the workers.
      const predictOne = async () => (await model.predict(x, { batchSize: microBatch }).data(), undefined);
      const predictWorkers = async () => tf.dispose(await trainer.predict(x));
      const s1 = await timedMedian(predictOne, steps);
      const sp = await timedMedian(predictWorkers, steps);
      const line = `| ${mode} | ${batch} | ${(batch / s1).toFixed(2)} | ${(batch / sp).toFixed(2)} | ${(s1 / sp).toFixed(2)}× |`;
      console.log(line);
      table.push(line);
      tf.dispose([x, y, oneHot]);
      continue;
    }
    const optimizer = tf.train.adam(1e-4);
    const train = createTrainStep(model, optimizer, { microBatch });
    const s1 = await timedMedian(() => train(x, oneHot), steps);
    optimizer.dispose();
    const parallelOptimizer = tf.train.adam(1e-4);
    const sp = await timedMedian(() => trainer.step(x, y, parallelOptimizer), steps);
    parallelOptimizer.dispose();
    const line = `| ${mode} | ${batch} | ${(batch / s1).toFixed(2)} | ${(batch / sp).toFixed(2)} | ${(s1 / sp).toFixed(2)}× |`;
    console.log(line);
    table.push(line);
    tf.dispose([x, y, oneHot]);
  }
  await trainer.dispose();
  model.dispose();
  vit.parameters.freeze();
}
console.log(`\n| setting | batch | 1 thread img/s | ${workers} workers img/s | speed-up |`);
console.log('|---|---|---|---|---|');
for (const line of table) console.log(line);
