import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  adapterModelConfig,
  applyAdapterConfig,
  assignTrainableTensors,
  checkBackboneMatches,
  FileFormatError,
  parseSafetensors,
  serializeSafetensors,
  writeFileAtomic,
  type AdapterModelConfig,
  type Backbone,
  type Parameter,
  type PeftModel,
} from '@vpeft/core';
import { TaskError } from './errors';
import type { MultiTaskModel } from './model';

/** The multi-task adapter's config: backbone, seed, shared methods, and per task its methods, head and file. */
export const MULTITASK_CONFIG_FILE = 'multitask_config.json';
/** Tensors of the shared methods (and backbone parameters a shared partial method trains). */
export const SHARED_WEIGHTS_FILE = 'shared.safetensors';
/** Tensors of one task: its own modules and its head (`heads.<task>.*`). */
export function taskWeightsFile(task: string): string {
  return `task-${task}.safetensors`;
}

type MethodEntry = AdapterModelConfig['methods'][number];

/** One weights file of the adapter: its tensors (name → owner, shape) and checksum. */
export interface MultiTaskPart {
  file: string;
  sha256: string;
  tensors: Record<string, { owner: string; shape: number[] }>;
}

/** `multitask_config.json`. */
export interface MultiTaskAdapterConfig {
  format: 'vpeft-multitask-adapter';
  formatVersion: 1;
  backbone: Record<string, unknown>;
  seed: number;
  shared: MultiTaskPart & { methods: MethodEntry[] };
  tasks: Array<MultiTaskPart & { name: string; numClasses: number; classNames?: string[]; source?: string; methods: MethodEntry[] }>;
}

/** Which part (`shared` or a task name) a trainable parameter of the model is saved in. */
function partOf(model: MultiTaskModel, p: Parameter): string {
  for (const task of model.tasks) {
    if (p.name.startsWith(`heads.${task.name}.`) || task.methods.some((m) => m.name === p.owner)) return task.name;
  }
  return 'shared';
}

async function writePart(dir: string, file: string, parameters: Parameter[]): Promise<MultiTaskPart> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const index: MultiTaskPart['tensors'] = {};
  for (const p of parameters) {
    tensors.set(p.name, { shape: p.variable.shape.slice(), data: (await p.variable.data()) as Float32Array });
    index[p.name] = { owner: p.selectedBy ?? p.owner, shape: p.variable.shape.slice() };
  }
  const bytes = serializeSafetensors(tensors, { format: 'vpeft-multitask-adapter' });
  await writeFileAtomic(join(dir, file), bytes);
  return { file, sha256: createHash('sha256').update(bytes).digest('hex'), tensors: index };
}

/**
 * Saves a multi-task model as one adapter directory: `shared.safetensors`, one
 * `task-<name>.safetensors` per task (its modules and head) and `multitask_config.json` (written last,
 * with each file's checksum). {@link loadTaskModel} serves one task reading only the shared file and
 * that task's file.
 */
export async function saveMultiTaskAdapter(model: MultiTaskModel, dir: string): Promise<MultiTaskAdapterConfig> {
  await mkdir(dir, { recursive: true });
  const groups = new Map<string, Parameter[]>([['shared', []], ...model.taskNames.map((n): [string, Parameter[]] => [n, []])]);
  for (const p of model.trainableParameters()) groups.get(partOf(model, p))!.push(p);
  const methods = (task: string) => adapterModelConfig(model.task(task)).methods;
  const sharedMethods = methods(model.taskNames[0]!).slice(0, model.shared.length);
  const shared = { ...(await writePart(dir, SHARED_WEIGHTS_FILE, groups.get('shared')!)), methods: sharedMethods };
  const tasks: MultiTaskAdapterConfig['tasks'] = [];
  for (const task of model.tasks) {
    const part = await writePart(dir, taskWeightsFile(task.name), groups.get(task.name)!);
    tasks.push({ name: task.name, numClasses: task.numClasses, ...(task.classNames ? { classNames: [...task.classNames] } : {}), ...(task.source !== undefined ? { source: task.source } : {}), methods: methods(task.name).slice(model.shared.length), ...part });
  }
  const config: MultiTaskAdapterConfig = { format: 'vpeft-multitask-adapter', formatVersion: 1, backbone: { ...model.backbone.config }, seed: model.seed, shared, tasks };
  await writeFileAtomic(join(dir, MULTITASK_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** Reads and checks `multitask_config.json`. */
export async function readMultiTaskConfig(dir: string): Promise<MultiTaskAdapterConfig> {
  const file = join(dir, MULTITASK_CONFIG_FILE);
  let config: MultiTaskAdapterConfig;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as MultiTaskAdapterConfig;
  } catch (error) {
    throw new FileFormatError(file, `cannot read the multi-task adapter config (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (config.format !== 'vpeft-multitask-adapter' || config.formatVersion !== 1) {
    throw new FileFormatError(file, `not a vpeft multi-task adapter (format ${JSON.stringify(config.format)}, version ${JSON.stringify(config.formatVersion)}; expected "vpeft-multitask-adapter", 1)`);
  }
  if (!config.shared || !Array.isArray(config.tasks)) throw new FileFormatError(file, 'missing "shared" or "tasks"');
  return config;
}

/** Reads one weights file of the adapter and checks it against its checksum. */
async function readPart(dir: string, part: MultiTaskPart): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const file = join(dir, part.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new FileFormatError(file, `cannot read the adapter weights (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (createHash('sha256').update(bytes).digest('hex') !== part.sha256) {
    throw new FileFormatError(file, `does not match ${MULTITASK_CONFIG_FILE} (checksum differs: an interrupted or mixed save?)`);
  }
  return parseSafetensors(bytes, file).tensors;
}

/** Loads a saved multi-task adapter into a model with the same backbone, shared methods and tasks. */
export async function loadMultiTaskWeights(model: MultiTaskModel, dir: string): Promise<void> {
  const config = await readMultiTaskConfig(dir);
  const configFile = join(dir, MULTITASK_CONFIG_FILE);
  checkBackboneMatches(config.backbone, { ...model.backbone.config }, configFile);
  const saved = config.tasks.map((t) => t.name).join(', ');
  if (saved !== model.taskNames.join(', ')) throw new TaskError(`${configFile}: the adapter's tasks are ${saved}; the model's are ${model.taskNames.join(', ')}`);
  const tensors = new Map(await readPart(dir, config.shared));
  for (const task of config.tasks) for (const [name, t] of await readPart(dir, task)) tensors.set(name, t);
  assignTrainableTensors(model.trainableParameters(), tensors, dir);
}

/**
 * Loads one task of a saved multi-task adapter as a single-task PeftModel on `backbone` (shared
 * methods, the task's methods and its head), for serving: only `shared.safetensors` and
 * `task-<task>.safetensors` are read. Methods are looked up in the registry by name.
 */
export async function loadTaskModel(backbone: Backbone, dir: string, task: string): Promise<PeftModel> {
  const config = await readMultiTaskConfig(dir);
  const entry = config.tasks.find((t) => t.name === task);
  if (!entry) throw new TaskError(`${join(dir, MULTITASK_CONFIG_FILE)}: no task "${task}"; the adapter's tasks: ${config.tasks.map((t) => t.name).join(', ')}`);
  const model = applyAdapterConfig(
    backbone,
    { backbone: config.backbone, numClasses: entry.numClasses, ...(entry.classNames ? { classNames: entry.classNames } : {}), seed: config.seed, methods: [...config.shared.methods, ...entry.methods] },
    join(dir, MULTITASK_CONFIG_FILE),
  );
  try {
    const tensors = new Map(await readPart(dir, config.shared));
    const head = `heads.${task}.`;
    for (const [name, t] of await readPart(dir, entry)) tensors.set(name.startsWith(head) ? `head.${name.slice(head.length)}` : name, t);
    assignTrainableTensors(model.trainableParameters(), tensors, dir);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
