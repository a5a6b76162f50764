import { TASK_NAME, TASK_SAMPLINGS, type TaskSampling } from '@vpeft/multitask';
import { readConfigFile } from './config-file';
import { UsageError } from './errors';

/** The multi-task options of `vpeft train`, parsed. */
export interface MultiTaskSpec {
  /** Tasks in the order given: name and data spec (as `--data` takes it). */
  tasks: Array<{ name: string; data: string }>;
  /** Task name → its own `--method` specs. */
  taskMethods: Map<string, string[]>;
  lossWeights: Record<string, number>;
  sampling: TaskSampling;
  temperature: number;
  /** `--baselines`: a JSON/YAML file of single-task top-1 per task, `train` to train them here, or absent. */
  baselines?: string;
}

/**
 * A repeatable option as a list of `key=value` strings: from the command line, or from a config file
 * as a list of such strings or as a mapping (`task: { digits: "mnist:classes=5|6|7|8|9" }`).
 */
export function keyValueList(value: unknown, option: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${String(v)}`);
  throw new UsageError(`--${option}: expected name=value entries, got ${JSON.stringify(value)}`);
}

function splitPair(entry: string, option: string, what: string): [string, string] {
  const eq = entry.indexOf('=');
  if (eq <= 0 || eq === entry.length - 1) throw new UsageError(`--${option} ${entry}: expected <task>=<${what}>`);
  return [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()];
}

/** Parses `--task`, `--task-method`, `--loss-weight`, `--sampling`, `--temperature` and `--baselines`; every error names the option and what is allowed. */
export function parseMultiTaskSpec(values: Record<string, unknown>): MultiTaskSpec {
  const tasks = keyValueList(values.task, 'task').map((entry) => {
    const [name, data] = splitPair(entry, 'task', 'data spec, e.g. digits=mnist:classes=5|6|7|8|9');
    if (!TASK_NAME.test(name)) throw new UsageError(`--task ${entry}: task name "${name}" must be lowercase letters, digits and "_", starting with a letter`);
    return { name, data };
  });
  const names = tasks.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new UsageError(`--task: the task name "${duplicate}" is given twice; every task needs its own name`);
  const known = (option: string, entry: string, name: string) => {
    if (!names.includes(name)) throw new UsageError(`--${option} ${entry}: no task "${name}"; tasks: ${names.join(', ')}`);
  };
  const taskMethods = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const entry of keyValueList(values['task-method'], 'task-method')) {
    const [name, method] = splitPair(entry, 'task-method', 'method spec, e.g. emoji=adapter');
    known('task-method', entry, name);
    taskMethods.get(name)!.push(method);
  }
  const lossWeights: Record<string, number> = {};
  for (const entry of keyValueList(values['loss-weight'], 'loss-weight')) {
    const [name, raw] = splitPair(entry, 'loss-weight', 'weight, e.g. digits=2');
    known('loss-weight', entry, name);
    const w = Number(raw);
    if (!Number.isFinite(w) || w < 0) throw new UsageError(`--loss-weight ${entry}: the weight must be a number >= 0, got "${raw}"`);
    lossWeights[name] = w;
  }
  const sampling = String(values.sampling ?? 'proportional') as TaskSampling;
  if (!TASK_SAMPLINGS.includes(sampling)) throw new UsageError(`--sampling expects ${TASK_SAMPLINGS.join(', ')}, got "${sampling}"`);
  if (values.temperature !== undefined && sampling !== 'temperature') throw new UsageError(`--temperature applies to --sampling temperature (sampling is ${sampling})`);
  const temperature = Number(values.temperature ?? 2);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new UsageError(`--temperature expects a number > 0, got "${String(values.temperature)}"`);
  return { tasks, taskMethods, lossWeights, sampling, temperature, ...(values.baselines !== undefined ? { baselines: String(values.baselines) } : {}) };
}

/**
 * Reads `--baselines FILE`: single-task test top-1 per task, each a fraction in [0, 1] or a result
 * object with `testTop1` (or `report.testTop1`, as `vpeft train --json` prints it).
 */
export async function readBaselines(file: string, tasks: readonly string[]): Promise<Record<string, number>> {
  const content = await readConfigFile(file, '--baselines');
  if (content === null || typeof content !== 'object' || Array.isArray(content)) throw new UsageError(`--baselines ${file}: expected a mapping of task name to single-task top-1`);
  const out: Record<string, number> = {};
  for (const task of tasks) {
    const entry = (content as Record<string, unknown>)[task];
    const value = typeof entry === 'number' ? entry : ((entry as { testTop1?: unknown; report?: { testTop1?: unknown } } | undefined)?.testTop1 ?? (entry as { report?: { testTop1?: unknown } } | undefined)?.report?.testTop1);
    if (entry === undefined) throw new UsageError(`--baselines ${file}: no result for task "${task}"; it has: ${Object.keys(content).join(', ') || 'nothing'}`);
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new UsageError(`--baselines ${file}: task "${task}" needs a top-1 in (0, 1] (a number, or an object with testTop1), got ${JSON.stringify(entry)}`);
    out[task] = value;
  }
  return out;
}
