import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ImageDataset, ImageSample, LoadOptions, SkippedEntry } from './dataset.js';
import { checkClassCount } from './dataset.js';
import type { SampleOrigin } from './errors.js';
import { LabelOutOfRangeError, MissingDatasetError, MissingImageError, SplitFormatError, UnknownSplitError, UnknownTaskError } from './errors.js';
import { DirectoryIndex } from './files.js';

/** VTAB's three task groups. */
export type VtabGroup = 'natural' | 'specialized' | 'structured';

/** A VTAB-1k task: its name (the NOAH folder name), group, published class count and folder aliases. */
export interface VtabTaskInfo {
  readonly name: string;
  readonly group: VtabGroup;
  readonly numClasses: number;
  /** Other names and folder names the task is found under. */
  readonly aliases: readonly string[];
}

/** The 19 VTAB-1k tasks with their published class counts. */
export const VTAB1K_TASKS: readonly VtabTaskInfo[] = [
  { name: 'cifar', group: 'natural', numClasses: 100, aliases: ['cifar100'] },
  { name: 'caltech101', group: 'natural', numClasses: 102, aliases: [] },
  { name: 'dtd', group: 'natural', numClasses: 47, aliases: [] },
  { name: 'oxford_flowers102', group: 'natural', numClasses: 102, aliases: [] },
  { name: 'oxford_iiit_pet', group: 'natural', numClasses: 37, aliases: ['oxford_pet'] },
  { name: 'svhn', group: 'natural', numClasses: 10, aliases: [] },
  { name: 'sun397', group: 'natural', numClasses: 397, aliases: [] },
  { name: 'patch_camelyon', group: 'specialized', numClasses: 2, aliases: [] },
  { name: 'eurosat', group: 'specialized', numClasses: 10, aliases: [] },
  { name: 'resisc45', group: 'specialized', numClasses: 45, aliases: [] },
  { name: 'diabetic_retinopathy', group: 'specialized', numClasses: 5, aliases: [] },
  { name: 'clevr_count', group: 'structured', numClasses: 8, aliases: [] },
  { name: 'clevr_dist', group: 'structured', numClasses: 6, aliases: [] },
  { name: 'dmlab', group: 'structured', numClasses: 6, aliases: [] },
  { name: 'kitti', group: 'structured', numClasses: 4, aliases: [] },
  { name: 'dsprites_loc', group: 'structured', numClasses: 16, aliases: [] },
  { name: 'dsprites_ori', group: 'structured', numClasses: 16, aliases: [] },
  { name: 'smallnorb_azi', group: 'structured', numClasses: 18, aliases: [] },
  { name: 'smallnorb_ele', group: 'structured', numClasses: 9, aliases: [] },
];

/** VTAB-1k splits: 800 train, 200 val, their union (used for the final run), and the full test set. */
export type VtabSplit = 'train800' | 'val200' | 'train800val200' | 'test';

/** The four VTAB-1k split names. */
export const VTAB1K_SPLITS: readonly VtabSplit[] = ['train800', 'val200', 'train800val200', 'test'];

/** Looks a task up by name or alias (case-insensitive, `-` same as `_`); throws {@link UnknownTaskError}. */
export function vtabTask(task: string): VtabTaskInfo {
  const info = findVtabTask(task);
  if (!info) throw unknownVtabTask(task);
  return info;
}

/** The task named `task` (or an alias; case-insensitive, `-` same as `_`), or undefined if it is not one of the 19. */
export function findVtabTask(task: string): VtabTaskInfo | undefined {
  const key = task.trim().toLowerCase().replace(/-/g, '_');
  return VTAB1K_TASKS.find((t) => t.name === key || t.aliases.includes(key));
}

/** The {@link UnknownTaskError} for `task`, listing the 19 tasks and their aliases. */
export function unknownVtabTask(task: string, detail?: string): UnknownTaskError {
  return new UnknownTaskError(task, VTAB1K_TASKS.flatMap((t) => [t.name, ...t.aliases.map((a) => `${a} (= ${t.name})`)]), 'VTAB-1k task', detail);
}

/** Whether `path` is a directory (false when it does not exist). */
export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** One parsed split-file line, or the error it raises. */
export type ParsedLine = { ok: true; path: string; label: number } | { ok: false; error: Error };

/** Parses a `"<relative image path> <class id>"` line (the path may contain spaces). */
export function parseSplitLine(text: string, origin: SampleOrigin, numClasses: number, task: string): ParsedLine {
  const match = /^(.+?)\s+(\S+)$/.exec(text.trim());
  if (!match) return { ok: false, error: new SplitFormatError(origin, `expected "<image path> <class id>", got ${JSON.stringify(text)}`) };
  const [, path, id] = match;
  if (!/^[+-]?\d+$/.test(id)) return { ok: false, error: new SplitFormatError(origin, `class id ${JSON.stringify(id)} is not an integer`) };
  const label = Number(id);
  if (label < 0 || label >= numClasses) return { ok: false, error: new LabelOutOfRangeError(origin, label, numClasses, task) };
  return { ok: true, path, label };
}

/**
 * Loads a VTAB-1k split in the layout NOAH and the benchmark distribute:
 * `<root>/<task>/<split>.txt` with lines `images/<split>/000000.jpg <class id>`.
 * The task folder may use any of the task's names (`cifar` or `cifar100`, `oxford_iiit_pet` or
 * `oxford_pet`). Class ids must lie in `0..published-1`; with `strictClassCount` every class must
 * appear. Holds only paths and labels. Errors name the split file and line.
 */
export async function vtab1k(root: string, task: string, split: VtabSplit | string, options: LoadOptions = {}): Promise<ImageDataset> {
  const info = vtabTask(task);
  if (!(VTAB1K_SPLITS as readonly string[]).includes(split)) throw new UnknownSplitError(split, VTAB1K_SPLITS, `vtab1k/${info.name}`);
  const folders = [info.name, ...info.aliases];
  const tried: string[] = [];
  let taskDir: string | undefined;
  for (const folder of folders) {
    const candidate = resolve(root, folder);
    tried.push(join(candidate, `${split}.txt`));
    if (await isDirectory(candidate)) {
      taskDir = candidate;
      break;
    }
  }
  if (!taskDir) throw new MissingDatasetError(`vtab1k/${info.name}`, tried);
  const dataset = await readVtabSplit(taskDir, `vtab1k/${info.name}`, split, info.numClasses, Array.from({ length: info.numClasses }, (_, i) => String(i)), options);
  checkClassCount(dataset, info.numClasses, options.strictClassCount ?? false);
  return dataset;
}

/**
 * Reads `<taskDir>/<split>.txt` (lines `<image path> <class id>`, ids in `0..numClasses-1`) into a
 * dataset named `name`. Errors name the split file and line; with `skipCorrupt` bad entries go to
 * `skipped`. Shared by {@link vtab1k} and the custom-task loader.
 */
export async function readVtabSplit(taskDir: string, name: string, split: string, numClasses: number, classNames: readonly string[], options: LoadOptions = {}): Promise<ImageDataset> {
  const file = join(taskDir, `${split}.txt`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new MissingDatasetError(name, [file]);
  }
  const samples: ImageSample[] = [];
  const skipped: SkippedEntry[] = [];
  const files = new DirectoryIndex();
  const checkFiles = options.checkFiles ?? true;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const origin: SampleOrigin = { file, line: i + 1 };
    const parsed = parseSplitLine(lines[i], origin, numClasses, name);
    let error: Error | undefined;
    let path = '';
    if (!parsed.ok) error = parsed.error;
    else {
      path = resolve(taskDir, parsed.path);
      if (checkFiles && !(await files.has(path))) error = new MissingImageError(origin, path);
    }
    if (error) {
      if (!options.skipCorrupt) throw error;
      skipped.push({ origin, error });
      continue;
    }
    if (parsed.ok) samples.push({ source: path, label: parsed.label, origin });
  }
  return { name, split, numClasses, classNames, samples, skipped, pipeline: 'vtab' };
}
