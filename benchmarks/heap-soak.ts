/**
 * Does the wasm heap grow over a long run? Trains ViT-Ti/16 (224) with LoRA r=8 q,v at an effective
 * batch of 64 (micro-batches of 8) for --steps steps and prints the live tensor count, tensor bytes and
 * the wasm heap size (which never shrinks, so any growth would show) after each step.
 *
 *   pnpm bench:soak --steps 20 --batch 64 --micro-batch 8
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, describeBackend, initBackend } from '@vpeft/core';
import { lossGradients, trainingTargets } from '@vpeft/train';
import { lora } from '@vpeft/method-lora';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, batch: { type: 'string', default: '64' }, 'micro-batch': { type: 'string', default: '8' } } });
const backend = await initBackend();
const batch = Number(values.batch);
const model = applyPeft(createViT('vit_tiny_patch16_224'), lora({ r: 8 }), { numClasses: 10 });
const optimizer = tf.train.adam(1e-3);
const heap = () => (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? 0;
console.log(`backend ${describeBackend(backend)}; LoRA r=8 q,v; batch ${batch} as micro-batches of ${values['micro-batch']}`);
for (let step = 1; step <= Number(values.steps); step++) {
  const started = performance.now();
  const x = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', step) as tf.Tensor4D;
  const targets = tf.tidy(() => trainingTargets(tf.tensor1d(Array.from({ length: batch }, (_, i) => (i + step) % 10), 'int32'), 10));
  const { grads } = await lossGradients(model, x, targets, { microBatch: Number(values['micro-batch']) });
  optimizer.applyGradients(grads as never);
  tf.dispose([x, targets, grads]);
  const m = tf.memory();
  console.log(`step ${step}: ${(batch / ((performance.now() - started) / 1000)).toFixed(2)} img/s, ${m.numTensors} tensors, ${(m.numBytes / 2 ** 20).toFixed(1)} MB tensors, wasm heap ${(heap() / 2 ** 20).toFixed(0)} MB`);
}
