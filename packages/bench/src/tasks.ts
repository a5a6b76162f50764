import { FGVC_DATASETS, fgvcDataset, permutation, VTAB1K_TASKS, vtabTask, type ImageDataset } from '@vpeft/datasets';
import { BenchSpecError } from './errors';
import { describeValue, isRecord } from './values';

/** Which benchmark group a task belongs to (VTAB-1k's three groups, FGVC), for the grouped means. */
export type TaskGroup = 'natural' | 'specialized' | 'structured' | 'fgvc';

/** Images kept per split (a seeded subset), for smoke tests and quick grids. */
export interface TaskLimit {
  train?: number;
  val?: number;
  test?: number;
}

/** One task of the grid. */
export interface TaskSpec {
  /** Label in reports (default: the data spec). */
  name: string;
  /** A data spec as `vpeft train --data` takes it: `mnist:classes=5|6`, `vtab1k:<root>:<task>`, `fgvc:<root>:<name>`, `folder:<train>:<val>:<test>`. */
  data: string;
  group?: TaskGroup;
  limit?: TaskLimit;
}

/** Train / val / test splits of a loaded task (the shape `vpeft train --data` produces). */
export interface TaskData {
  name: string;
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  numClasses: number;
  classNames: readonly string[];
}

/**
 * Checks a data spec of one kind without reading data; returns the task's group. Throw
 * {@link BenchSpecError} for a bad spec. Register more kinds (e.g. a multi-task set) with
 * {@link registerTaskKind}.
 */
export type TaskKindCheck = (parts: string[], data: string, where: string) => TaskGroup | undefined;

const KINDS = new Map<string, TaskKindCheck>([
  ['mnist', bundled],
  ['emoji', bundled],
  [
    'vtab1k',
    ([root, task], data, where) => {
      if (!root || !task) throw new BenchSpecError(`${where}: "${data}" expected vtab1k:<root>:<task>`);
      return known(() => vtabTask(task).group, where);
    },
  ],
  [
    'fgvc',
    ([root, name], data, where) => {
      if (!root || !name) throw new BenchSpecError(`${where}: "${data}" expected fgvc:<root>:<name>`);
      known(() => fgvcDataset(name), where);
      return 'fgvc';
    },
  ],
  [
    'folder',
    ([train, val, test], data, where) => {
      if (!train || !val || !test) {
        throw new BenchSpecError(`${where}: "${data}" expected folder:<train>:<val>:<test>; the benchmark needs a test folder apart from the val folder it selects on`);
      }
      return undefined;
    },
  ],
]);

function bundled([options]: string[], data: string, where: string): undefined {
  for (const pair of (options ?? '').split(',').filter(Boolean)) {
    if (!/^classes=\d+(\|\d+)*$/.test(pair)) throw new BenchSpecError(`${where}: "${data}" has option "${pair}"; allowed: classes=a|b|c (class ids)`);
  }
  return undefined;
}

function known<T>(look: () => T, where: string): T {
  try {
    return look();
  } catch (error) {
    throw new BenchSpecError(`${where}: ${(error as Error).message}`);
  }
}

/** Adds a task kind (`<kind>:...` data specs) to the ones a grid accepts. The loader passed to the runner must load it. */
export function registerTaskKind(kind: string, check: TaskKindCheck): void {
  KINDS.set(kind, check);
}

function checkData(data: unknown, where: string): { data: string; group?: TaskGroup } {
  if (typeof data !== 'string' || data.trim() === '') throw new BenchSpecError(`${where}: expected a data spec string, got ${describeValue(data)}`);
  const [kind, ...parts] = data.split(':');
  const check = KINDS.get(kind!);
  if (!check) throw new BenchSpecError(`${where}: unknown task kind "${kind}" in "${data}"; allowed: ${[...KINDS.keys()].join(', ')}`);
  const group = check(parts, data, where);
  return group ? { data, group } : { data };
}

function parseLimit(raw: unknown, where: string): TaskLimit | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) throw new BenchSpecError(`${where}: expected { train?, val?, test? } image counts, got ${describeValue(raw)}`);
  const limit: TaskLimit = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'train' && key !== 'val' && key !== 'test') throw new BenchSpecError(`${where}: unknown split "${key}"; allowed: train, val, test`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BenchSpecError(`${where}.${key}: expected a positive integer, got ${describeValue(value)}`);
    limit[key] = value;
  }
  return limit;
}

function expandSet(root: unknown, list: unknown, all: readonly string[], kind: string, where: string): string[] {
  if (typeof root !== 'string' || root === '') throw new BenchSpecError(`${where}.${kind}: expected the data root folder, got ${describeValue(root)}`);
  const names = list === undefined || list === 'all' ? all : list;
  if (!Array.isArray(names) || names.length === 0) throw new BenchSpecError(`${where}: expected "all" or a non-empty list of ${kind} task names, got ${describeValue(list)}`);
  return names.map((n) => `${kind}:${root}:${String(n)}`);
}

/**
 * Reads the spec's `tasks` list. Entries: a data spec string; `{ data, name?, limit? }`;
 * `{ vtab1k: <root>, tasks: all | [names], limit? }`; `{ fgvc: <root>, datasets: all | [names], limit? }`.
 */
export function parseTasks(raw: unknown): TaskSpec[] {
  if (!Array.isArray(raw)) throw new BenchSpecError(`spec.tasks: expected a list of tasks, got ${describeValue(raw)}`);
  const tasks: TaskSpec[] = [];
  raw.forEach((entry, i) => {
    const where = `spec.tasks[${i}]`;
    let specs: string[];
    let limit: TaskLimit | undefined;
    let name: string | undefined;
    if (typeof entry === 'string') {
      specs = [entry];
    } else if (isRecord(entry)) {
      const allowed = 'vtab1k' in entry ? ['vtab1k', 'tasks', 'limit'] : 'fgvc' in entry ? ['fgvc', 'datasets', 'limit'] : ['data', 'name', 'limit'];
      for (const key of Object.keys(entry)) if (!allowed.includes(key)) throw new BenchSpecError(`${where}: unknown key "${key}"; allowed: ${allowed.join(', ')}`);
      limit = parseLimit(entry.limit, `${where}.limit`);
      if ('vtab1k' in entry) specs = expandSet(entry.vtab1k, entry.tasks, VTAB1K_TASKS.map((t) => t.name), 'vtab1k', where);
      else if ('fgvc' in entry) specs = expandSet(entry.fgvc, entry.datasets, FGVC_DATASETS.map((d) => d.name), 'fgvc', where);
      else {
        specs = [entry.data as string];
        if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name === '')) throw new BenchSpecError(`${where}.name: expected a non-empty string, got ${describeValue(entry.name)}`);
        name = entry.name as string | undefined;
      }
    } else {
      throw new BenchSpecError(`${where}: expected a data spec (e.g. mnist, vtab1k:<root>:<task>) or { data, name?, limit? }, got ${describeValue(entry)}`);
    }
    for (const spec of specs) {
      const { data, group } = checkData(spec, where);
      tasks.push({ name: name ?? data, data, ...(group ? { group } : {}), ...(limit ? { limit } : {}) });
    }
  });
  const seen = new Set<string>();
  for (const t of tasks) {
    if (seen.has(t.name)) throw new BenchSpecError(`spec.tasks: the task "${t.name}" appears twice`);
    seen.add(t.name);
  }
  return tasks;
}

function subset(dataset: ImageDataset, count: number | undefined, seed: number): ImageDataset {
  if (count === undefined || count >= dataset.samples.length) return dataset;
  const order = permutation(dataset.samples.length, seed);
  const keep = Array.from(order.subarray(0, count)).sort((a, b) => a - b);
  return { ...dataset, samples: keep.map((i) => dataset.samples[i]!) };
}

/** Applies a task's `limit`: a seeded subset of each split (same images for every cell). */
export function limitTask(task: TaskData, limit: TaskLimit | undefined, seed: number): TaskData {
  if (!limit) return task;
  return { ...task, train: subset(task.train, limit.train, seed), val: subset(task.val, limit.val, seed + 1), test: subset(task.test, limit.test, seed + 2) };
}

/** train800val200: the train and val splits together, for the final run of the protocol. */
export function trainWithVal(task: TaskData): ImageDataset {
  return { ...task.train, split: `${task.train.split}+${task.val.split}`, samples: [...task.train.samples, ...task.val.samples] };
}
