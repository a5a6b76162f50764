/**
 * Batch-1 latency: a user classifying one image. Median ms of `model.predict(oneImage)` + reading the
 * logits, on ViT-Ti/16 (224) with LoRA r=8 on q,v and on the MNIST ViT (28) with LoRA r=4, wasm, one
 * thread: the LoRA modules unmerged (as trained) and merged into the weights (`model.merge()`, what
 * `vpeft merge` saves and inference should use).
 *
 *   pnpm bench:latency [--calls 20] [--json]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, describeBackend, initBackend, loadBackbone, type PeftModel } from '@vpeft/core';
import '@vpeft/pretrained';
import { lora } from '@vpeft/method-lora';
import { median } from './lib/train-step';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } } });
const calls = Number(values.calls);
const backend = await initBackend({ backend: 'wasm' });
const load = loadavg()[0]!;

/** Median and fastest ms of one predict of one image (after one warm-up call); the fastest is the steadier figure on a busy machine. */
async function latencyMs(model: PeftModel): Promise<{ median: number; min: number }> {
  const [h, w, c] = model.backbone.inputShape;
  const image = tf.randomUniform([1, h, w, c], 0, 1, 'float32', 7) as tf.Tensor4D;
  const once = async () => {
    const logits = model.predict(image);
    await logits.data();
    logits.dispose();
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  image.dispose();
  return { median: median(times), min: Math.min(...times) };
}

const models = [
  { name: 'ViT-Ti/16 224, LoRA r=8 q,v', make: async () => applyPeft(createViT('vit_tiny_patch16_224', { seed: 0 }), [lora({ r: 8, alpha: 8, targets: ['blocks.*.attn.qkv'], slices: ['q', 'v'] })], { numClasses: 10, seed: 0 }) },
  { name: 'MNIST ViT 28, LoRA r=4', make: async () => applyPeft(await loadBackbone('vit_tiny_patch7_28_mnist04'), [lora({ r: 4 })], { numClasses: 10, seed: 0 }) },
];
const rows: Array<{ model: string; unmergedMs: { median: number; min: number }; mergedMs: { median: number; min: number } }> = [];
for (const { name, make } of models) {
  const model = await make();
  const unmergedMs = await latencyMs(model);
  model.merge();
  const mergedMs = await latencyMs(model);
  rows.push({ model: name, unmergedMs, mergedMs });
  model.dispose({ backbone: true });
}
if (values.json) {
  console.log(JSON.stringify({ loadAverage: load, backend: describeBackend(backend), calls, rows }, null, 2));
} else {
  console.log(`load average at start: ${load.toFixed(2)}; ${describeBackend(backend)}; median of ${calls} calls, one image each`);
  const ms = (t: { median: number; min: number }) => `${t.median.toFixed(1)} (${t.min.toFixed(1)})`;
  console.log('| model | LoRA unmerged: median (min) ms | merged: median (min) ms |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.model} | ${ms(r.unmergedMs)} | ${ms(r.mergedMs)} |`);
}
