import { parseArgs } from 'node:util';
import { createViT, describeBackend, type Backbone } from '@vpeft/core';
import { startBackend } from '../start-backend';
import { loadPretrainedViTMnist, PRETRAINED_VIT_MNIST } from '@vpeft/pretrained';
import { loadTaskData } from '../data-spec';
import { discoverPlugins } from '../plugins';
import { UsageError } from '../errors';
import { checkOutputFolder } from '../output-path';
import { positiveInteger } from '../parse-number';
import { parseMethodSpecs } from '../method-spec';
import type { Output } from '../output';
import { reportTable, runTraining, type Recipe, type TrainingReport } from '../run-training';

/** Learning rates of the demo's runs (AdamW, cosine with one warm-up epoch). */
const LINEAR_LR = 5e-3;
const LORA_LR = 3e-3;

export const DEMO_HELP = `vpeft demo — fine-tune the bundled pre-trained ViT (MNIST digits 0-4) on digits 5-9 it never saw:
a linear probe on random weights, a linear probe and LoRA, with test accuracy and adapter sizes

  vpeft demo [--epochs N] [--out DIR] [--backend X] [--json]

  --epochs N   default 8          --out DIR   default vpeft-demo (checkpoints and adapters)
`;

/**
 * `vpeft demo`: the main job on real, bundled data. Fine-tunes the shipped pre-trained ViT
 * (MNIST digits 0-4) on a task it never saw — digits 5-9, VTAB-1k style (800 train, 200 val, the
 * rest test) — with a linear probe and with LoRA, and prints test accuracy, the trainable share and
 * the adapter's size against the full model's.
 */
export async function demoCommand(args: string[], out: Output): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options: { epochs: { type: 'string', default: '8' }, out: { type: 'string', default: 'vpeft-demo' }, backend: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const epochs = positiveInteger(values.epochs, 'epochs');
  checkOutputFolder(String(values.out));
  const backend = await startBackend(values.backend);
  await discoverPlugins();
  const backbone = await loadPretrainedViTMnist();
  const task = await loadTaskData('mnist:classes=5|6|7|8|9');
  out.note(`backend ${describeBackend(backend)}`);
  out.note(`backbone ${PRETRAINED_VIT_MNIST.description}; ${backbone.parameters.count().toLocaleString('en-US')} parameters`);
  out.note(`task: MNIST digits 5-9 (never seen in pre-training): ${task.train.samples.length} train, ${task.val.samples.length} val, ${task.test.samples.length} test`);
  const base: Recipe = { epochs, batchSize: 32, learningRate: 1e-3, weightDecay: 1e-4, warmupEpochs: 1, labelSmoothing: 0.1, seed: 42 };
  // The same architecture with random weights: how much of the result the pre-training buys.
  const randomBackbone = createViT(PRETRAINED_VIT_MNIST.config, { seed: 42 });
  const runs: Array<{ label: string; dir: string; backbone: Backbone; methods: string[]; recipe: Recipe }> = [
    { label: 'linear probe, random weights', dir: 'linear-random', backbone: randomBackbone, methods: [], recipe: { ...base, learningRate: LINEAR_LR } },
    { label: 'linear probe', dir: 'linear', backbone, methods: [], recipe: { ...base, learningRate: LINEAR_LR } },
    { label: 'LoRA r=8 (q,v)', dir: 'lora', backbone, methods: ['lora:r=8,alpha=8'], recipe: { ...base, learningRate: LORA_LR } },
  ];
  const reports: TrainingReport[] = [];
  for (const run of runs) {
    const { report, model } = await runTraining(run.label, run.backbone, parseMethodSpecs(run.methods), task, run.recipe, out, {
      outDir: `${String(values.out)}/${run.dir}`,
    });
    reports.push(report);
    out.note(`${run.label}: test top-1 ${(100 * report.testTop1).toFixed(2)}% (${report.wallSeconds.toFixed(0)} s)`);
    model.dispose();
  }
  randomBackbone.dispose();
  const fullModelBytes = backbone.parameters.count() * 4;
  out.result({ backend: describeBackend(backend), task: task.name, fullModelBytes, reports: reports.map((r) => ({ ...r, test: { top1: r.test.top1, perClass: r.test.perClass } })) }, () =>
    [
      reportTable(reports, backbone.parameters.count()),
      '',
      ...reports.filter((r) => r.adapterBytes).map((r) => `${r.label}: adapter ${r.adapterBytes!.toLocaleString('en-US')} bytes in ${r.adapterDir} vs ${fullModelBytes.toLocaleString('en-US')} bytes for the full model (${((100 * r.adapterBytes!) / fullModelBytes).toFixed(2)}%)`),
    ].join('\n'),
  );
  backbone.dispose();
}
