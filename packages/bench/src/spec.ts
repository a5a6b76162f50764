import { createHash } from 'node:crypto';
import { BenchSpecError } from './errors';
import { DEFAULT_HYPER, parseHyper, type HyperParameters } from './hyper';
import { parseMethods, type MethodVariant } from './methods';
import { parseTasks, type TaskSpec } from './tasks';
import { describeValue, isRecord } from './values';

/** A backbone of the grid: a name the backbone resolver knows, optional weights and model config. */
export interface BackboneSpec {
  name: string;
  weights?: string;
  config?: string;
}

/**
 * How a cell's number is chosen.
 * - `val200` (the fair protocol): pick the hyper-parameters on val200 after training on train800,
 *   retrain on train800val200 with them, report test top-1 of the last epoch. Test never selects.
 * - `benchmark-code`: what the published benchmark code does — train on train800val200 and report the
 *   best test top-1 over epochs and hyper-parameters. Optimistic; for comparison with published tables only.
 */
export type Protocol = 'val200' | 'benchmark-code';

/** The protocols, with the sentence each report prints. */
export const PROTOCOLS: Record<Protocol, string> = {
  val200:
    'Protocol val200: hyper-parameters selected on val200 after training on train800; the chosen ones retrained on train800val200; test top-1 after the last epoch. The test split is never used for selection.',
  'benchmark-code':
    'Protocol benchmark-code: reproduces the published benchmark code — train on train800val200 and report the best test top-1 over epochs and hyper-parameters. This selects on test and is optimistic; it is not a fair protocol.',
};

/** A validated, fully expanded grid spec. */
export interface BenchSpec {
  backbones: BackboneSpec[];
  methods: MethodVariant[];
  tasks: TaskSpec[];
  hyper: HyperParameters;
  seeds: number[];
  /** Seed of the data splits and subsets (the same images for every seed and cell). */
  dataSeed: number;
  protocol: Protocol;
}

const KEYS = ['backbones', 'backbone', 'methods', 'tasks', 'hyper', 'seeds', 'dataSeed', 'protocol'];

function parseBackbones(raw: unknown): BackboneSpec[] {
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((entry, i) => {
    const where = `spec.backbones[${i}]`;
    if (typeof entry === 'string' && entry !== '') return { name: entry };
    if (isRecord(entry) && typeof entry.name === 'string' && entry.name !== '') {
      for (const key of Object.keys(entry)) if (!['name', 'weights', 'config'].includes(key)) throw new BenchSpecError(`${where}: unknown key "${key}"; allowed: name, weights, config`);
      for (const key of ['weights', 'config'] as const) {
        if (entry[key] !== undefined && typeof entry[key] !== 'string') throw new BenchSpecError(`${where}.${key}: expected a path, got ${describeValue(entry[key])}`);
      }
      return { name: entry.name, ...(entry.weights ? { weights: entry.weights as string } : {}), ...(entry.config ? { config: entry.config as string } : {}) };
    }
    throw new BenchSpecError(`${where}: expected a backbone name or { name, weights?, config? }, got ${describeValue(entry)}`);
  });
}

function parseSeeds(raw: unknown): number[] {
  const list = raw === undefined ? [42] : Array.isArray(raw) ? raw : [raw];
  list.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s)) throw new BenchSpecError(`spec.seeds[${i}]: expected an integer, got ${describeValue(s)}`);
  });
  if (new Set(list).size !== list.length) throw new BenchSpecError(`spec.seeds: seeds repeat (${list.join(', ')}); each seed once`);
  return list as number[];
}

/**
 * Validates a grid spec (parsed YAML/JSON) and expands its option grids. Every problem — unknown
 * key, method, option or task, bad value, empty axis — throws {@link BenchSpecError} before anything
 * trains. Methods must already be registered (import their packages).
 *
 * ```yaml
 * backbones: [vit_tiny_patch7_28_mnist04]
 * tasks: ['mnist:classes=5|6|7|8|9', { vtab1k: /data/vtab-1k, tasks: [cifar, dtd] }]
 * methods: [linear, bitfit, { lora: { r: [4, 8] } }, { name: lora+vpt, compose: [{ lora: { r: 4 } }, { vpt: { tokens: 5 } }] }]
 * hyper: { lr: [1e-3, 3e-3], weightDecay: [1e-4], epochs: [10], batchSize: 32 }
 * seeds: [42, 43, 44]
 * ```
 */
export function parseBenchSpec(raw: unknown, overrides: { protocol?: string } = {}): BenchSpec {
  if (!isRecord(raw)) throw new BenchSpecError(`spec: expected a mapping with backbones, methods, tasks, hyper, seeds; got ${describeValue(raw)}`);
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) throw new BenchSpecError(`spec: unknown key "${key}"; allowed: ${KEYS.filter((k) => k !== 'backbone').join(', ')}`);
  const backbones = parseBackbones(raw.backbones ?? raw.backbone);
  const hyper = parseHyper(raw.hyper, 'spec.hyper', DEFAULT_HYPER);
  const methods = parseMethods(raw.methods ?? [], hyper);
  const tasks = parseTasks(raw.tasks ?? []);
  const seeds = parseSeeds(raw.seeds);
  const dataSeed = raw.dataSeed ?? 42;
  if (typeof dataSeed !== 'number' || !Number.isInteger(dataSeed)) throw new BenchSpecError(`spec.dataSeed: expected an integer, got ${describeValue(dataSeed)}`);
  const protocol = overrides.protocol ?? raw.protocol ?? 'val200';
  if (typeof protocol !== 'string' || !(protocol in PROTOCOLS)) throw new BenchSpecError(`protocol: unknown protocol ${describeValue(protocol)}; allowed: ${Object.keys(PROTOCOLS).join(', ')}`);
  const empty = !backbones.length ? 'backbones' : !methods.length ? 'methods' : !tasks.length ? 'tasks' : !seeds.length ? 'seeds' : undefined;
  if (empty) throw new BenchSpecError(`spec: the grid is empty: spec.${empty} has no entries; give at least one`);
  return { backbones, methods, tasks, hyper, seeds, dataSeed, protocol: protocol as Protocol };
}

/** A short hash of the expanded spec: results from different specs never mix (resume, merge). */
export function specHash(spec: BenchSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}
