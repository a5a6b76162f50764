/**
 * Train-step and inference speed of PEFT on the nsfwjs MobileNetV2 (224x224) on this machine's
 * backend: the settings of bench/transfer.ts (BitFit on every BatchNorm beta, LoRA r=8 on the last
 * blocks' 1x1 convs) plus the linear probe and a no-grad forward. Median of --steps steps after one
 * warm-up; img/s and the peak bytes of live tensors (tf.memory after the forward, tape included).
 *
 *   npx tsx --conditions=@vpeft/source packages/backbone-layers/bench/step-speed.ts [--batch 8] [--steps 3]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, describeBackend, initBackend, type MethodInput } from '@vpeft/core';
import { bitfit } from '@vpeft/method-bitfit';
import { lora } from '@vpeft/method-lora';
import { trainingGradients } from '@vpeft/train';
import { loadNsfwjsMobileNetV2 } from '../src/index';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '8' }, steps: { type: 'string', default: '3' } } });
const batch = Number(values.batch);
const steps = Number(values.steps);
const backend = await initBackend();
const backbone = await loadNsfwjsMobileNetV2();
const images = tf.randomUniform([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 9), 'int32');

async function medianMs(run: () => unknown): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}

const settings: Array<{ name: string; methods: MethodInput | readonly never[] }> = [
  { name: 'linear probe', methods: [] },
  { name: 'LoRA r=8, blocks 13-16 + Conv_1', methods: [lora({ r: 8, targets: ['block_1{3,4,5,6}_{expand,project}', 'Conv_1'] })] },
  { name: 'BitFit (BatchNorm betas)', methods: [bitfit()] },
];
const rows: string[] = [];
const forwardMs = await medianMs(() => tf.dispose(backbone.forward(images)));
rows.push(`| inference (no grad) | ${(batch / (forwardMs / 1000)).toFixed(2)} | ${forwardMs.toFixed(0)} | – |`);
for (const { name, methods } of settings) {
  const model = applyPeft(backbone, methods, { numClasses: 9 });
  let peak = 0;
  const ms = await medianMs(async () => {
    const result = await trainingGradients(model, { x: images, y: labels }, { labelSmoothing: 0 });
    peak = Math.max(peak, result.peakBytes);
    tf.dispose(Object.values(result.grads));
  });
  rows.push(`| ${name} | ${(batch / (ms / 1000)).toFixed(2)} | ${ms.toFixed(0)} | ${(peak / 2 ** 20).toFixed(0)} |`);
  model.dispose();
}
console.log(`\nMobileNetV2 (nsfwjs) at 224, batch ${batch}, median of ${steps} steps; ${describeBackend(backend)}\n`);
console.log(['| setting | img/s | ms per step | peak tensors MB |', '|---|---|---|---|', ...rows].join('\n'));
tf.dispose([images, labels]);
