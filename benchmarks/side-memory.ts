/**
 * Side-tuning's memory point, measured: ViT-Ti/16 at 224, batch 32, one training step's peak tensor
 * memory and img/s for Ladder Side-Tuning (whole batch in one pass) against LoRA and prefix tuning
 * (micro-batched by 8 as `bench:speed` does: their b32 tape does not fit the 4 GiB wasm heap).
 *
 *   pnpm bench:side                          # lora, prefix, side, side-mlp at batch 32
 *   pnpm bench:side --modes side,lora --steps 3 --json
 *
 * Same step as every speed bench (benchmarks/lib/train-step.ts): softmax cross-entropy, Adam on the
 * trainable parameters; median of --steps timed steps after one warm-up; peak tensor memory is
 * tf.profile's peakBytes on one extra step; the wasm heap is the process's high-water mark so far
 * (it never shrinks), so the settings run in the order given. Run with `nice -n 10` on a shared machine.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, describeBackend, initBackend, type MethodInstance } from '@vpeft/core';
import { lora } from '@vpeft/method-lora';
import { prefix } from '@vpeft/method-prefix';
import { side } from '@vpeft/method-side';
import { createTrainStep, median, wasmHeapBytes } from './lib/train-step';

const SETTINGS = {
  lora: { method: () => lora({ r: 8, slices: ['q', 'v'] }), microBatch: 8, describe: 'LoRA r=8 q,v' },
  prefix: { method: () => prefix({ tokens: 10 }), microBatch: 8, describe: 'prefix p=10' },
  side: { method: () => side({ reduction: 8 }), microBatch: 32, describe: 'side r=8, transformer ladder' },
  'side-mlp': { method: () => side({ reduction: 8, block: 'mlp' }), microBatch: 32, describe: 'side r=8, MLP ladder' },
} satisfies Record<string, { method: () => MethodInstance<object>; microBatch: number; describe: string }>;
type Mode = keyof typeof SETTINGS;

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    modes: { type: 'string', default: 'lora,prefix,side,side-mlp' },
    steps: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const modes = values.modes!.split(',') as Mode[];
for (const m of modes) if (!(m in SETTINGS)) throw new Error(`--modes: unknown setting "${m}"; expected some of ${Object.keys(SETTINGS).join(', ')}`);
const MB = 2 ** 20;
const NUM_CLASSES = 10;
const log = (line: string) => { if (!values.json) console.log(line); };
log(`load average at start: ${loadavg()[0]!.toFixed(2)}`);

const backend = await initBackend();
const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
const images = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % NUM_CLASSES), 'int32'), NUM_CLASSES) as tf.Tensor2D;
const rows: Array<{ mode: Mode; setting: string; batch: number; microBatch: number; imgPerS: number; peakTfMB: number; wasmHeapMB: number; trainable: number }> = [];
for (const mode of modes) {
  const setting = SETTINGS[mode];
  const model = applyPeft(vit, setting.method(), { numClasses: NUM_CLASSES });
  const optimizer = tf.train.adam(1e-4);
  const microBatch = Math.min(setting.microBatch, batch);
  const train = createTrainStep(model, optimizer, { microBatch });
  try {
    await train(images, labels);
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await train(images, labels);
      times.push((performance.now() - t0) / 1000);
    }
    const profile = await tf.profile(async () => { await train(images, labels); });
    const row = {
      mode, setting: setting.describe, batch, microBatch, imgPerS: batch / median(times), peakTfMB: profile.peakBytes / MB,
      wasmHeapMB: (wasmHeapBytes() ?? 0) / MB, trainable: model.trainableParameters().reduce((n, p) => n + p.variable.size, 0),
    };
    rows.push(row);
    log(`${setting.describe.padEnd(30)} b${batch} (micro-batch ${microBatch}): ${row.imgPerS.toFixed(2)} img/s, peak ${row.peakTfMB.toFixed(0)} MB tensors, wasm heap ${row.wasmHeapMB.toFixed(0)} MB`);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
tf.dispose([images, labels]);
vit.dispose();

if (values.json) {
  console.log(JSON.stringify({ backend: describeBackend(backend), batch, steps, rows }, null, 2));
} else {
  console.log(`\n${describeBackend(backend)}; median of ${steps} steps after 1 warm-up\n`);
  console.log('| setting | batch (micro-batch) | img/s | peak tensors | wasm heap (high-water so far) | trainable |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.setting} | ${r.batch} (${r.microBatch}) | ${r.imgPerS.toFixed(2)} | ${(r.peakTfMB / 1024).toFixed(2)} GB | ${(r.wasmHeapMB / 1024).toFixed(2)} GB | ${r.trainable.toLocaleString('en-US')} |`);
}
