import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTaskModel, MULTITASK_CONFIG_FILE, readMultiTaskConfig, TaskError } from '@vpeft/multitask';
import { loadPeftModel } from '@vpeft/core';
import { startBackend } from '../start-backend';
import { backboneTransform, batches } from '@vpeft/datasets';
import { evaluate } from '@vpeft/train';
import { resolveBackbone } from '../backbones';
import { loadTaskData } from '../data-spec';
import { discoverPlugins } from '../plugins';
import { UsageError } from '../errors';
import { positiveInteger } from '../parse-number';
import type { Output } from '../output';
import { evalProgress } from '../progress-line';
import { SkipLog } from '../skipped-images';

export const EVAL_HELP = `vpeft eval — top-1 and per-class accuracy of a saved adapter

  vpeft eval --backbone B --adapter DIR --data D [--split test|val] [options]

  --backbone B        the backbone the adapter was trained on (as for vpeft train)
  --weights W         timm .safetensors weights for a ViT config name
  --adapter DIR       a directory written by vpeft train --out (DIR/adapter) or saveAdapter
  --data D            mnist | emoji | mnist:classes=5|6|7|8|9 | vtab1k:<root>:<task> | fgvc:<root>:<name> | folder:...
  --task NAME         one task of a multi-task adapter (vpeft train --task); --data defaults to its own
  --split S           test (default) or val
  --batch-size N      default 64            --seed N   default 42 (the split of bundled data)
  --skip-corrupt      leave out undecodable or missing images; they are counted and listed
  --backend X         auto (default), tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu
  --json              machine-readable output
`;

/**
 * `vpeft eval --backbone B --adapter DIR --data D [--split test|val]`: top-1 and per-class accuracy.
 * With `--task NAME` the adapter is a multi-task one and only that task is loaded (its data spec from
 * the adapter unless `--data` is given).
 */
export async function evalCommand(args: string[], out: Output): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: { backbone: { type: 'string' }, weights: { type: 'string' }, adapter: { type: 'string' }, data: { type: 'string' }, split: { type: 'string', default: 'test' }, 'batch-size': { type: 'string', default: '64' }, backend: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string', default: '42' }, 'skip-corrupt': { type: 'boolean' }, task: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(EVAL_HELP);
    return;
  }
  for (const required of ['backbone', 'adapter'] as const) if (!values[required]) throw new UsageError(`vpeft eval needs --${required}`);
  const adapterDir = String(values.adapter);
  const multiTask = existsSync(join(adapterDir, MULTITASK_CONFIG_FILE));
  if (multiTask && !values.task) {
    const tasks = (await readMultiTaskConfig(adapterDir)).tasks.map((t) => t.name);
    throw new UsageError(`--adapter ${adapterDir} is a multi-task adapter; give --task (one of ${tasks.join(', ')})`);
  }
  if (values.task && !multiTask) throw new UsageError(`--task ${String(values.task)}: --adapter ${adapterDir} is not a multi-task adapter (no ${MULTITASK_CONFIG_FILE})`);
  if (values.task && !values.data) {
    const entry = (await readMultiTaskConfig(adapterDir)).tasks.find((t) => t.name === values.task);
    if (!entry) throw new TaskError(`--task ${String(values.task)}: no such task in ${adapterDir}`);
    values.data = entry.source;
  }
  if (!values.data) throw new UsageError('vpeft eval needs --data');
  if (values.split !== 'test' && values.split !== 'val') throw new UsageError(`--split expects test or val, got "${String(values.split)}"`);
  const batchSize = positiveInteger(values['batch-size'], 'batch-size');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed expects an integer, got "${String(values.seed)}"`);
  const skip = new SkipLog(Boolean(values['skip-corrupt']));
  const task = await loadTaskData(String(values.data), seed, { skipCorrupt: skip.enabled });
  if (task.note) out.note(task.note);
  await startBackend(values.backend);
  await discoverPlugins();
  const { backbone } = await resolveBackbone({ backbone: String(values.backbone), weights: values.weights as string | undefined });
  const model = values.task ? await loadTaskModel(backbone, adapterDir, String(values.task)) : await loadPeftModel(backbone, adapterDir);
  if (model.numClasses !== task.numClasses) {
    const classes = model.classNames ? ` (${model.classNames.join(', ')})` : '';
    model.dispose({ backbone: true });
    throw new UsageError(`--adapter ${adapterDir}${values.task ? ` --task ${String(values.task)}` : ''} classifies ${model.numClasses} classes${classes}, but --data ${String(values.data)} has ${task.numClasses}; give the data the adapter was trained on`);
  }
  // Inference only: fold the mergeable modules (LoRA, BitFit, SSF, ...) into the weights, one product per site.
  model.merge();
  const dataset = values.split === 'val' ? task.val : task.test;
  skip.addLoaded([dataset]);
  const transform = backboneTransform(dataset, backbone, { train: false });
  const result = await evaluate(model, batches(dataset, { batchSize, transform, ...skip.batchOptions() }), {
    total: dataset.samples.length,
    onProgress: evalProgress(out, `eval ${values.split}`),
  });
  out.result({ ...(values.task ? { task: values.task } : {}), data: task.name, split: values.split, ...result, skipped: skip.report() }, () =>
    [
      `${values.task ? `task ${String(values.task)}: ` : ''}${task.name} ${values.split}: top-1 ${(100 * result.top1).toFixed(2)}% over ${result.count} images`,
      ...result.perClass.map((a, c) => `  ${task.classNames[c] ?? c}: ${(100 * a).toFixed(1)}% (${result.classCounts[c]})`),
      skip.text(),
    ]
      .filter(Boolean)
      .join('\n'),
  );
  model.dispose({ backbone: true });
}
