/**
 * The feature cache's point, measured: 10 epochs with and without it (a cold cache: the run fills it),
 * wall time and accuracies, for the settings of the issue — a linear probe and LoRA on the last
 * blocks of MobileNetV2 (bundled emoji images, 224x224), and `partial` (last block) on the
 * pre-trained MNIST ViT (MNIST digits 5-9).
 *
 *   pnpm bench:cache                       # all three, 10 epochs
 *   pnpm bench:cache --settings vit-partial --epochs 3
 *
 * Run with `nice -n 10` on a shared machine; the load average at start is printed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend, type Backbone } from '@vpeft/core';
import { loadNsfwjsMobileNetV2 } from '@vpeft/backbone-layers';
import '@vpeft/method-bitfit';
import '@vpeft/method-lora';
import { loadPretrainedViTMnist } from '@vpeft/pretrained';
import { loadTaskData, type TaskData } from '../packages/cli/src/data-spec';
import { parseMethodSpec } from '../packages/cli/src/method-spec';
import { processOutput } from '../packages/cli/src/output';
import { runTraining, type Recipe } from '../packages/cli/src/run-training';

interface Setting {
  describe: string;
  backbone: () => Promise<Backbone>;
  data: string;
  /** train / val / test images kept (a fixed prefix of each split). */
  sizes?: [number, number, number];
  methods: string[];
}

const SETTINGS: Record<string, Setting> = {
  'mobilenet-probe': { describe: 'MobileNetV2, linear probe (emoji, 224)', backbone: loadNsfwjsMobileNetV2, data: 'emoji', sizes: [160, 40, 200], methods: [] },
  'mobilenet-lora': {
    describe: 'MobileNetV2, LoRA r=8 on block_16 + Conv_1 (emoji, 224)',
    backbone: loadNsfwjsMobileNetV2,
    data: 'emoji',
    sizes: [160, 40, 200],
    methods: ['lora:r=8,targets=block_16_expand|block_16_project|Conv_1'],
  },
  'vit-partial': { describe: 'pre-trained ViT (MNIST 0-4), partial: last block (MNIST 5-9)', backbone: loadPretrainedViTMnist, data: 'mnist:classes=5|6|7|8|9', methods: ['partial:lastBlocks=1'] },
};

const { values } = parseArgs({ options: { settings: { type: 'string', default: Object.keys(SETTINGS).join(',') }, epochs: { type: 'string', default: '10' } } });
const epochs = Number(values.epochs);
const names = values.settings!.split(',');
for (const name of names) if (!(name in SETTINGS)) throw new Error(`--settings: unknown "${name}"; expected some of ${Object.keys(SETTINGS).join(', ')}`);

console.log(`load average at start: ${loadavg()[0]!.toFixed(2)}`);
const backend = await initBackend();
const out = processOutput(true, { intervalSeconds: 1e9 });
const recipe: Recipe = { epochs, batchSize: 32, learningRate: 3e-3, weightDecay: 1e-4, warmupEpochs: 1, labelSmoothing: 0.1, seed: 42 };
const take = <T,>(list: readonly T[], n: number | undefined) => (n === undefined ? list : list.slice(0, n));

const rows: string[] = [];
for (const name of names) {
  const setting = SETTINGS[name]!;
  const full = await loadTaskData(setting.data);
  const [a, b, c] = setting.sizes ?? [];
  const task: TaskData = { ...full, train: { ...full.train, samples: take(full.train.samples, a) }, val: { ...full.val, samples: take(full.val.samples, b) }, test: { ...full.test, samples: take(full.test.samples, c) } };
  const cacheDir = await mkdtemp(join(tmpdir(), 'vpeft-bench-cache-'));
  const result: Record<string, { wall: number; val: number; test: number; imgPerS: number }> = {};
  let line = '';
  for (const mode of ['cache', 'no cache'] as const) {
    const backbone = await setting.backbone();
    const notes: string[] = [];
    const capture = { ...out, note: (text: string) => notes.push(text) };
    const { report, model } = await runTraining(name, backbone, setting.methods.map(parseMethodSpec), task, recipe, capture, { cache: mode === 'cache' ? { dir: cacheDir } : false });
    result[mode] = { wall: report.wallSeconds, val: report.valTop1, test: report.testTop1, imgPerS: report.fit.imagesPerSecond };
    if (mode === 'cache') line = notes.find((n) => n.startsWith('feature cache')) ?? '';
    model.dispose({ backbone: true });
    console.log(`${name} (${mode}): ${report.wallSeconds.toFixed(1)} s, ${report.fit.imagesPerSecond.toFixed(1)} img/s of steps, val ${(100 * report.valTop1).toFixed(2)}%, test ${(100 * report.testTop1).toFixed(2)}%`);
  }
  await rm(cacheDir, { recursive: true, force: true });
  const on = result.cache!;
  const off = result['no cache']!;
  const size = /\(([\d,]+) images, ([^ ]+ [kMG]?B) each/.exec(line);
  const same = on.val === off.val && on.test === off.test ? 'same' : `differ (${(100 * on.test).toFixed(2)} vs ${(100 * off.test).toFixed(2)})`;
  rows.push(
    `| ${setting.describe} | ${task.train.samples.length}/${task.val.samples.length}/${task.test.samples.length} | ${off.wall.toFixed(0)} s | ${on.wall.toFixed(0)} s | **${(off.wall / on.wall).toFixed(1)}×** | ${size ? `${size[1]} × ${size[2]}` : '–'} | ${(100 * on.test).toFixed(2)} (${same}) |`,
  );
}

console.log(`\n${describeBackend(backend)}; ${epochs} epochs, batch 32, cold cache (the cached run fills it); wall includes evaluation each epoch and the test split\n`);
console.log('| setting | train/val/test images | wall, no cache | wall, cache | speed-up | cache (images × bytes) | test top-1 % (cache vs none) |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
