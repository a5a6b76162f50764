import { parseArgs } from 'node:util';
import { describeBackend } from '@vpeft/core';
import { startBackend } from '../start-backend';
import { resolveBackbone } from '../backbones';
import { readConfigFile } from '../config-file';
import { loadTaskData } from '../data-spec';
import { discoverPlugins, pluginsFromConfig } from '../plugins';
import { UsageError } from '../errors';
import { parseMethodSpecs } from '../method-spec';
import type { Output } from '../output';
import { reportTable, runTraining, type Recipe } from '../run-training';
import { multiTaskTrain } from './train-multitask';
import { parseBytes } from '../parse-bytes';
import { SkipLog } from '../skipped-images';
import { checkOutputFolder } from '../output-path';

export const TRAIN_HELP = `vpeft train — fine-tune a backbone with PEFT methods

  vpeft train --backbone B --data D [--method name:key=value,...]... [recipe options] [--out DIR]

  --data D            mnist | emoji | mnist:classes=5|6|7|8|9 | vtab1k:<root>:<task> | fgvc:<root>:<name> | folder:<train>:<val>[:<test>]
  --config FILE       a JSON or YAML file with any of these options (command-line flags win)
  --epochs N          default 10        --batch-size N   default 32
  --lr X              default 1e-3      --weight-decay X default 1e-4
  --warmup-epochs N   default 1         --label-smoothing X default 0.1
  --micro-batch N     accumulate gradients over chunks of N images (bounded memory)
  --seed N            default 42        --out DIR        checkpoints (resumable) and the adapter
  --workers N|auto    compute gradients on N worker threads (own wasm heap each); default auto: the
                      cores when the backend is wasm, the batch gives each >= 8 images, the feature
                      cache is off and the run is long enough (>= ~30 s on one thread); 1: this thread
  --resume            continue from DIR/checkpoints/last
  --skip-corrupt      leave out undecodable or missing images and bad split-file lines; they are
                      counted and listed in the result (default: stop at the first, exit 2)
  --no-cache          do not cache the frozen part's output (by default, when the methods leave the
                      first blocks frozen and the pipeline does not augment, they run once per image)
  --cache-dir DIR     feature cache folder (default $VPEFT_CACHE_DIR or ~/.cache/vpeft/features)
  --cache-limit SIZE  largest size of that folder, e.g. 500MB, 20GB (default 20GB; LRU eviction)

  Multi-task (one backbone, shared --method modules, per-task modules and heads, mixed batches):
  vpeft train --backbone B --task NAME=D [--task NAME=D]... [--method ...] [--task-method NAME=M]...
  --task NAME=D       a task and its data (as --data takes it), e.g. digits=mnist:classes=5|6|7|8|9
  --task-method NAME=M  a method only task NAME runs (name:key=value,... as --method), repeatable
  --loss-weight NAME=W  weight of task NAME's loss (default 1)
  --sampling S        proportional (default) | uniform | temperature: how batch slots pick a task
  --temperature T     τ of temperature sampling, p_t ∝ n_t^(1/τ) (default 2)
  --baselines F       single-task test top-1 per task (JSON/YAML: task: 0.95, or vpeft train --json
                      results) for Δm; "train" trains each single-task model (shared + its methods) first
  In a --config file: task, task-method and loss-weight are lists of NAME=VALUE or mappings.
`;

const OPTIONS = {
  backbone: { type: 'string' },
  weights: { type: 'string' },
  config: { type: 'string' },
  'model-config': { type: 'string' },
  data: { type: 'string' },
  method: { type: 'string', multiple: true },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  'warmup-epochs': { type: 'string' },
  'label-smoothing': { type: 'string' },
  'micro-batch': { type: 'string' },
  seed: { type: 'string' },
  workers: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  'skip-corrupt': { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  'cache-limit': { type: 'string' },
  task: { type: 'string', multiple: true },
  'task-method': { type: 'string', multiple: true },
  'loss-weight': { type: 'string', multiple: true },
  sampling: { type: 'string' },
  temperature: { type: 'string' },
  baselines: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function number(value: unknown, option: string, check: (n: number) => boolean, allowed: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (value === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${option} expects ${allowed}, got "${String(value)}"`);
  return n;
}

/** Throws unless `value`, given for `key` in the config file `file`, has the type the option takes. */
function checkConfigValue(file: string, key: keyof typeof OPTIONS, value: unknown): void {
  const option = OPTIONS[key] as { type: 'string' | 'boolean'; multiple?: boolean };
  const scalar = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  let allowed: string | undefined;
  if (option.type === 'boolean') {
    if (typeof value !== 'boolean') allowed = 'true or false';
  } else if (option.multiple) {
    // --task, --task-method and --loss-weight also take a mapping of task name to value.
    const mapping = key !== 'method' && value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(scalar);
    if (!scalar(value) && !(Array.isArray(value) && value.every(scalar)) && !mapping) allowed = key === 'method' ? 'a method spec or a list of them' : 'a list of NAME=VALUE entries or a mapping';
  } else if (!scalar(value)) {
    allowed = 'a string or a number';
  }
  if (allowed) throw new UsageError(`--config ${file}: option "${key}" expects ${allowed}, got ${JSON.stringify(value)}`);
}

/** Options a config file lists and the command line replaces as a whole. */
const REPEATABLE = ['method', 'task', 'task-method', 'loss-weight'] as const;

/** The training recipe from the options, with defaults; a bad value is a {@link UsageError}. */
function parseRecipe(values: Record<string, unknown>): Recipe {
  const epochs = number(values.epochs ?? 10, 'epochs', (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  return {
    epochs,
    batchSize: number(values['batch-size'] ?? 32, 'batch-size', (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    learningRate: number(values.lr ?? 1e-3, 'lr', (n) => n > 0, 'a positive number'),
    weightDecay: number(values['weight-decay'] ?? 1e-4, 'weight-decay', (n) => n >= 0, 'a number >= 0'),
    // The default warm-up (1 epoch) fits every run; one given must fit in the run's epochs.
    warmupEpochs: values['warmup-epochs'] === undefined ? 1 : number(values['warmup-epochs'], 'warmup-epochs', (n) => n >= 0 && n <= epochs, `a number in [0, ${epochs}] (at most --epochs)`),
    labelSmoothing: number(values['label-smoothing'] ?? 0.1, 'label-smoothing', (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    microBatch: values['micro-batch'] === undefined ? undefined : number(values['micro-batch'], 'micro-batch', (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    seed: number(values.seed ?? 42, 'seed', Number.isInteger, 'an integer'),
  };
}

/** `vpeft train`. */
export async function trainCommand(args: string[], out: Output): Promise<void> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: OPTIONS, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(TRAIN_HELP);
    return;
  }
  if (values.config) {
    const file = String(values.config);
    const content = await readConfigFile(file, '--config');
    if (content === null || typeof content !== 'object' || Array.isArray(content)) {
      throw new UsageError(`--config ${file}: expected a mapping of option to value (e.g. epochs: 10), got ${content === null || content === undefined ? 'nothing (an empty file or null)' : JSON.stringify(content).slice(0, 60)}`);
    }
    const { plugins, ...fromFile } = content as Record<string, unknown>;
    // `plugins:` (names or paths relative to the file) join --plugin for this run and its workers.
    pluginsFromConfig(plugins, file);
    for (const [key, value] of Object.entries(fromFile)) {
      if (!(key in OPTIONS) || key === 'config' || key === 'help') throw new UsageError(`--config ${file}: unknown option "${key}"; allowed: plugins, ${Object.keys(OPTIONS).filter((k) => k !== 'config' && k !== 'help').join(', ')}`);
      checkConfigValue(file, key as keyof typeof OPTIONS, value);
    }
    // A single entry in the file (method: lora) counts as a list of one.
    const listed = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : Array.isArray(v) ? v.map(String) : v);
    const repeated = Object.fromEntries(REPEATABLE.map((key) => [key, values[key] ?? listed(fromFile[key])]));
    values = { ...fromFile, ...values, ...repeated };
  }
  if (!values.backbone) throw new UsageError('vpeft train needs --backbone (e.g. vit_tiny_patch7_28_mnist04, mobilenet_v2, vit_base_patch16_224 --weights FILE)');
  if (values.task !== undefined && values.data !== undefined) throw new UsageError('vpeft train takes --data (one task) or --task (several), not both');
  const recipe = parseRecipe(values);
  if (values.resume && values.out === undefined) throw new UsageError('--resume continues the run saved in --out DIR; give --out');
  if (values.out !== undefined) checkOutputFolder(String(values.out));
  if (values['cache-dir'] !== undefined && !values['no-cache']) checkOutputFolder(String(values['cache-dir']), '--cache-dir');
  if (values.task !== undefined) {
    await multiTaskTrain(values, recipe, out);
    return;
  }
  for (const key of ['task-method', 'loss-weight', 'sampling', 'temperature', 'baselines'] as const) {
    if (values[key] !== undefined) throw new UsageError(`--${key} applies to multi-task training; give the tasks with --task NAME=DATA`);
  }
  if (!values.data) throw new UsageError('vpeft train needs --data (e.g. mnist, emoji, vtab1k:<root>:<task>) or --task NAME=DATA (several tasks)');

  const workers = values.workers === undefined || values.workers === 'auto' ? 'auto' : number(values.workers, 'workers', (n) => Number.isInteger(n) && n > 0, 'a positive integer or auto');
  const cache = values['no-cache'] ? false : { dir: values['cache-dir'] as string | undefined, limitBytes: values['cache-limit'] === undefined ? undefined : parseBytes(String(values['cache-limit']), '--cache-limit') };
  // The data first: a damaged split file is reported before the backend and the model are loaded.
  const skip = new SkipLog(Boolean(values['skip-corrupt']));
  const task = await loadTaskData(String(values.data), recipe.seed, { skipCorrupt: skip.enabled });
  if (task.note) out.note(task.note);
  skip.addLoaded([task.train, task.val, task.test]);
  const backend = await startBackend(values.backend);
  await discoverPlugins();
  const methods = parseMethodSpecs((values.method as string[] | undefined) ?? []);
  const { backbone, description, pretrained } = await resolveBackbone({ backbone: String(values.backbone), weights: values.weights as string | undefined, config: values['model-config'] as string | undefined });
  if (!pretrained) out.note(`note: ${description} — PEFT on random weights measures nothing useful; pass a pre-trained backbone`);
  out.note(`backend ${describeBackend(backend)}; backbone ${description}; data ${task.name} (${task.train.samples.length} train, ${task.val.samples.length} val, ${task.test.samples.length} test, ${task.numClasses} classes)`);
  const label = methods.map((m) => m.name).join('+') || 'linear';
  const { report, model } = await runTraining(label, backbone, methods, task, recipe, out, {
    outDir: values.out as string | undefined,
    resume: Boolean(values.resume),
    workers,
    skip,
    cache,
  });
  out.result(
    { backend: describeBackend(backend), backbone: description, data: task.name, recipe, report: { ...report, test: { top1: report.test.top1, perClass: report.test.perClass, count: report.test.count } }, skipped: skip.report() },
    () => [reportTable([report], model.summary().backboneParams), report.adapterDir && `adapter saved to ${report.adapterDir}`, skip.text()].filter(Boolean).join('\n'),
  );
  model.dispose({ backbone: true });
}
