import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ImageDataset, ImageSample, LoadOptions, SkippedEntry } from './dataset.js';
import { checkClassCount } from './dataset.js';
import type { SampleOrigin } from './errors.js';
import { ClassCountError, MissingDatasetError, MissingImageError, SplitFormatError, UnknownSplitError, UnknownTaskError } from './errors.js';
import { DirectoryIndex } from './files.js';

/** An FGVC dataset as VPT distributes its splits: name, published class count, image folder. */
export interface FgvcDatasetInfo {
  readonly name: string;
  readonly numClasses: number;
  /** Folder (relative to the dataset root) that JSON keys are relative to; `''` for the root. */
  readonly imageRoot: string;
  readonly aliases: readonly string[];
}

/** The five FGVC datasets of the benchmark. */
export const FGVC_DATASETS: readonly FgvcDatasetInfo[] = [
  { name: 'cub', numClasses: 200, imageRoot: 'images', aliases: ['cub_200_2011', 'cub200', 'cub2011'] },
  { name: 'nabirds', numClasses: 555, imageRoot: 'images', aliases: [] },
  { name: 'oxford_flowers', numClasses: 102, imageRoot: '', aliases: ['oxfordflowers', 'oxfordflower', 'flowers', 'flowers102'] },
  { name: 'stanford_dogs', numClasses: 120, imageRoot: 'Images', aliases: ['stanforddogs', 'dogs'] },
  { name: 'stanford_cars', numClasses: 196, imageRoot: '', aliases: ['stanfordcars', 'cars'] },
];

/** FGVC splits: VPT's `train`/`val`/`test` JSON files, and `trainval` (train + val, for the final run). */
export type FgvcSplit = 'train' | 'val' | 'test' | 'trainval';

/** The FGVC split names. */
export const FGVC_SPLITS: readonly FgvcSplit[] = ['train', 'val', 'test', 'trainval'];

/** Looks an FGVC dataset up by name or alias (case-insensitive); throws {@link UnknownTaskError}. */
export function fgvcDataset(name: string): FgvcDatasetInfo {
  const key = name.trim().toLowerCase().replace(/-/g, '_');
  const info = FGVC_DATASETS.find((d) => d.name === key || d.aliases.includes(key) || d.aliases.includes(key.replace(/_/g, '')));
  if (!info) throw new UnknownTaskError(name, FGVC_DATASETS.flatMap((d) => [d.name, ...d.aliases]), 'FGVC dataset');
  return info;
}

interface RawEntry {
  readonly key: string;
  readonly id: string;
  readonly origin: SampleOrigin;
}

/** Reads `{ "<relative path>": classId }`; entries with a non-integer id are errors (or skipped). */
async function readSplitJson(file: string, skipCorrupt: boolean, skipped: SkippedEntry[]): Promise<RawEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SplitFormatError({ file }, `invalid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SplitFormatError({ file }, 'expected a flat JSON object {"<image path>": classId}');
  }
  const entries: RawEntry[] = [];
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const origin: SampleOrigin = { file, key };
    const id = typeof value === 'number' && Number.isInteger(value) ? String(value) : typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? String(Number(value)) : undefined;
    if (id === undefined) {
      const error = new SplitFormatError(origin, `class id ${JSON.stringify(value)} is not an integer`);
      if (!skipCorrupt) throw error;
      skipped.push({ origin, error });
      continue;
    }
    entries.push({ key, id, origin });
  }
  return entries;
}

/**
 * Loads an FGVC split in VPT's layout: `<root>/{train,val,test}.json`, each `{ "<path>": classId }`
 * with paths relative to the dataset's image folder (CUB and NABirds `images/`, Stanford Dogs
 * `Images/`, Stanford Cars and Oxford Flowers the root). Original ids are remapped to `0..K-1` in
 * ascending (numeric) order over the ids of all split files present, so every split shares one
 * mapping; K must not exceed the published count (with `strictClassCount`, must equal it).
 * Class names are the images' common parent folder per class when there is one (CUB's
 * `001.Black_footed_Albatross`), else the original id.
 */
export async function fgvc(root: string, name: string, split: FgvcSplit | string, options: LoadOptions = {}): Promise<ImageDataset> {
  const info = fgvcDataset(name);
  const datasetName = `fgvc/${info.name}`;
  if (!(FGVC_SPLITS as readonly string[]).includes(split)) throw new UnknownSplitError(split, FGVC_SPLITS, datasetName);
  const skipCorrupt = options.skipCorrupt ?? false;
  const skipped: SkippedEntry[] = [];
  const wanted = split === 'trainval' ? ['train', 'val'] : [split];
  const bySplit = new Map<string, RawEntry[]>();
  for (const part of ['train', 'val', 'test']) {
    // Split files not asked for only contribute ids to the mapping: their bad entries are dropped quietly.
    const isWanted = wanted.includes(part);
    const entries = await readSplitJson(join(resolve(root), `${part}.json`), skipCorrupt || !isWanted, isWanted ? skipped : []);
    if (entries) bySplit.set(part, entries);
  }
  const missing = wanted.filter((part) => !bySplit.has(part));
  if (missing.length > 0) throw new MissingDatasetError(datasetName, missing.map((part) => join(resolve(root), `${part}.json`)));

  // One id mapping over every split file present, in ascending numeric order.
  const firstSeen = new Map<string, RawEntry>();
  for (const entries of bySplit.values()) for (const entry of entries) if (!firstSeen.has(entry.id)) firstSeen.set(entry.id, entry);
  const ids = [...firstSeen.keys()].sort((a, b) => Number(a) - Number(b));
  if (ids.length > info.numClasses) {
    const extra = firstSeen.get(ids[info.numClasses])!;
    throw new ClassCountError(
      datasetName,
      info.numClasses,
      ids.length,
      `${[...bySplit.keys()].map((p) => `${p}.json`).join(', ')} (ids ${ids[0]}..${ids[ids.length - 1]}; id ${extra.id} at ${extra.origin.file} [${JSON.stringify(extra.origin.key)}] is beyond the published count)`,
    );
  }
  const idToLabel = new Map(ids.map((id, i) => [id, i]));

  const imageRoot = resolve(root, info.imageRoot);
  const files = new DirectoryIndex();
  const checkFiles = options.checkFiles ?? true;
  const samples: ImageSample[] = [];
  for (const part of wanted) {
    for (const entry of bySplit.get(part)!) {
      const path = resolve(imageRoot, entry.key);
      if (checkFiles && !(await files.has(path))) {
        const error = new MissingImageError(entry.origin, path);
        if (!skipCorrupt) throw error;
        skipped.push({ origin: entry.origin, error });
        continue;
      }
      samples.push({ source: path, label: idToLabel.get(entry.id)!, origin: entry.origin });
    }
  }

  const dataset: ImageDataset = {
    name: datasetName,
    split,
    numClasses: info.numClasses,
    classNames: classNamesFrom(bySplit, ids, info.numClasses),
    samples,
    skipped,
    pipeline: 'fgvc',
  };
  checkClassCount(dataset, info.numClasses, options.strictClassCount ?? false);
  if (options.strictClassCount && ids.length !== info.numClasses) {
    throw new ClassCountError(datasetName, info.numClasses, ids.length, 'the split files');
  }
  return dataset;
}

/** Per class: the images' common first folder if they all share one, else the original id. */
function classNamesFrom(bySplit: Map<string, RawEntry[]>, ids: readonly string[], numClasses: number): string[] {
  const folder = new Map<string, string | null>();
  for (const entries of bySplit.values()) {
    for (const { key, id } of entries) {
      const slash = key.indexOf('/');
      const dir = slash > 0 ? key.slice(0, slash) : null;
      const seen = folder.get(id);
      if (seen === undefined) folder.set(id, dir);
      else if (seen !== dir) folder.set(id, null);
    }
  }
  const names = ids.map((id) => folder.get(id) ?? id);
  // Folder names must be unique to be used; otherwise fall back to ids.
  const unique = new Set(names).size === names.length ? names : [...ids];
  for (let i = unique.length; i < numClasses; i++) unique.push(`unseen_${i}`);
  return unique;
}
