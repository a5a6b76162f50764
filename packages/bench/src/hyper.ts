import { BenchSpecError } from './errors';
import { describeValue, isRecord } from './values';

/**
 * Training hyper-parameters of a grid. `lr`, `weightDecay` and `epochs` are the selection grid
 * (every combination is tried on val200); the rest are fixed for every run.
 */
export interface HyperParameters {
  /** Peak learning rates to select from. */
  lr: number[];
  /** AdamW decoupled weight decays to select from. */
  weightDecay: number[];
  /** Epoch counts to select from. */
  epochs: number[];
  batchSize: number;
  warmupEpochs: number;
  labelSmoothing: number;
  /** Accumulate gradients over chunks of this many images (bounded memory); absent: whole batches. */
  microBatch?: number;
}

/** One point of the selection grid. */
export interface HyperPoint {
  lr: number;
  weightDecay: number;
  epochs: number;
}

/** Defaults of {@link HyperParameters} (the CLI's `vpeft train` defaults). */
export const DEFAULT_HYPER: HyperParameters = { lr: [1e-3], weightDecay: [1e-4], epochs: [10], batchSize: 32, warmupEpochs: 1, labelSmoothing: 0.1 };

const GRID_KEYS = ['lr', 'weightDecay', 'epochs'] as const;
const FIXED_KEYS = ['batchSize', 'warmupEpochs', 'labelSmoothing', 'microBatch'] as const;

type Check = [test: (n: number) => boolean, allowed: string];
const CHECKS: Record<(typeof GRID_KEYS)[number] | (typeof FIXED_KEYS)[number], Check> = {
  lr: [(n) => n > 0, 'a positive number'],
  weightDecay: [(n) => n >= 0, 'a number >= 0'],
  epochs: [(n) => Number.isInteger(n) && n > 0, 'a positive integer'],
  batchSize: [(n) => Number.isInteger(n) && n > 0, 'a positive integer'],
  warmupEpochs: [(n) => n >= 0, 'a number >= 0'],
  labelSmoothing: [(n) => n >= 0 && n < 1, 'a number in [0, 1)'],
  microBatch: [(n) => Number.isInteger(n) && n > 0, 'a positive integer'],
};

function checkNumber(value: unknown, where: string, [test, allowed]: Check): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !test(value)) throw new BenchSpecError(`${where}: expected ${allowed}, got ${describeValue(value)}`);
  return value;
}

/**
 * Reads a `hyper` block over `base`: grid keys take a number or a non-empty list of numbers, fixed
 * keys a number. Unknown keys and bad values throw {@link BenchSpecError} naming `where`.
 */
export function parseHyper(raw: unknown, where: string, base: HyperParameters = DEFAULT_HYPER): HyperParameters {
  if (raw === undefined || raw === null) return base;
  if (!isRecord(raw)) throw new BenchSpecError(`${where}: expected a mapping of ${[...GRID_KEYS, ...FIXED_KEYS].join(', ')}, got ${describeValue(raw)}`);
  const out: HyperParameters = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    if ((GRID_KEYS as readonly string[]).includes(key)) {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0) throw new BenchSpecError(`${where}.${key}: the list is empty; give at least one value`);
      out[key as (typeof GRID_KEYS)[number]] = list.map((v, i) => checkNumber(v, `${where}.${key}${Array.isArray(value) ? `[${i}]` : ''}`, CHECKS[key as (typeof GRID_KEYS)[number]]));
    } else if ((FIXED_KEYS as readonly string[]).includes(key)) {
      out[key as (typeof FIXED_KEYS)[number]] = checkNumber(value, `${where}.${key}`, CHECKS[key as (typeof FIXED_KEYS)[number]]);
    } else {
      throw new BenchSpecError(`${where}: unknown key "${key}"; allowed: ${[...GRID_KEYS, ...FIXED_KEYS].join(', ')}`);
    }
  }
  const shortest = Math.min(...out.epochs);
  if (out.warmupEpochs > 0 && out.warmupEpochs >= shortest) {
    throw new BenchSpecError(`${where}.warmupEpochs: ${out.warmupEpochs} warm-up epochs leave no decay in a ${shortest}-epoch run; use fewer (e.g. warmupEpochs: 0)`);
  }
  return out;
}

/** Every (lr, weightDecay, epochs) combination, lr varying slowest. */
export function hyperPoints(hyper: HyperParameters): HyperPoint[] {
  return hyper.lr.flatMap((lr) => hyper.weightDecay.flatMap((weightDecay) => hyper.epochs.map((epochs) => ({ lr, weightDecay, epochs }))));
}

/** `lr=0.001 wd=0.0001 ep=10`. */
export function formatHyperPoint(p: HyperPoint): string {
  return `lr=${p.lr} wd=${p.weightDecay} ep=${p.epochs}`;
}
