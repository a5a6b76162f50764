/**
 * ViT forward and train-step throughput (img/s) on the chosen backend.
 *
 *   pnpm bench:vit --backend wasm --model vit_tiny_patch16_224 --batch 32 --steps 3 --micro-batch 8
 *
 * Prints one table row per mode: median img/s over the timed steps (after one warm-up step),
 * peak tf.memory().numBytes and the backend. Benchmarks are scripts, never timed tests.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, describeBackend, initBackend, type BackendChoice, type ViTConfigName } from '@vpeft/core';
import { lossGradients } from '@vpeft/train';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    model: { type: 'string', default: 'vit_tiny_patch16_224' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'forward,full,linear' },
    'micro-batch': { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});

const backend = await initBackend({ backend: values.backend as BackendChoice | 'auto' });
const batch = Number(values.batch);
const steps = Number(values.steps);
const vit = createViT(values.model as ViTConfigName, { seed: 0 });
const [h, w, c] = vit.inputShape;
const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row { mode: string; imagesPerSecond: number; secondsPerStep: number; peakMB: number }
const rows: Row[] = [];

for (const mode of values.modes!.split(',')) {
  const model = applyPeft(vit, [], { numClasses: 10 });
  if (mode === 'full') vit.parameters.unfreeze('**');
  const optimizer = tf.train.adam(1e-4);
  let peak = 0;
  const step = async () => {
    if (mode === 'forward') {
      const y = model.predict(x);
      await y.data();
      y.dispose();
      return;
    }
    // Gradients over micro-batches (the wasm32 heap caps at 4 GiB), then one optimizer step.
    const { grads } = await lossGradients(model, x, labels as tf.Tensor2D, { microBatch: Number(values['micro-batch']) });
    optimizer.applyGradients(grads as never);
    tf.dispose(grads);
  };
  const times: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t0 = performance.now();
    await step();
    peak = Math.max(peak, tf.memory().numBytes);
    if (i > 0) times.push((performance.now() - t0) / 1000);
  }
  const s = median(times);
  rows.push({ mode, imagesPerSecond: batch / s, secondsPerStep: s, peakMB: peak / 2 ** 20 });
  optimizer.dispose();
  vit.parameters.freeze();
  model.dispose();
  if (!values.json) console.log(`${mode.padEnd(8)} ${(batch / s).toFixed(2).padStart(8)} img/s  ${s.toFixed(2)} s/step  peak ${(peak / 2 ** 20).toFixed(0)} MB`);
}

if (values.json) console.log(JSON.stringify({ backend: describeBackend(backend), model: values.model, batch, rows }, null, 2));
else console.log(`backend: ${describeBackend(backend)}; model ${values.model}; batch ${batch}; median of ${steps} steps after 1 warm-up`);
