import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ImageDataset, LoadOptions } from './dataset.js';
import { MissingDatasetError, SplitFormatError, UnknownSplitError } from './errors.js';
import type { VtabSplit } from './vtab1k.js';
import { VTAB1K_SPLITS, isDirectory, parseSplitLine, readVtabSplit, unknownVtabTask } from './vtab1k.js';

/** A task of your own in the VTAB-1k layout (`<root>/<name>/{train800,val200,train800val200,test}.txt`). */
export interface CustomVtabTask {
  /** `vtab1k/<folder name>`. */
  readonly name: string;
  /** The task folder (absolute). */
  readonly dir: string;
  readonly numClasses: number;
  /** From `classes.txt`, else the class ids as strings. */
  readonly classNames: readonly string[];
  /** Where the class count came from: `classes.txt` (one name per line) or the largest class id in the list files, plus one. */
  readonly classesFrom: 'classes.txt' | 'labels';
  /** The files the class count was read from. */
  readonly sources: readonly string[];
}

/**
 * Describes the task folder `<root>/<folder>` of a task that is not one of the 19: the class count
 * comes from `classes.txt` when there is one, else from the labels of the list files present
 * (`train800.txt`, `val200.txt`, `train800val200.txt`, `test.txt`). Throws
 * {@link UnknownTaskError} when the folder does not exist (listing the 19 tasks, in case of a typo),
 * {@link MissingDatasetError} when it holds no list file, {@link SplitFormatError} (file:line) for a
 * malformed line (skipped with `skipCorrupt`).
 */
export async function customVtabTask(root: string, folder: string, options: Pick<LoadOptions, 'skipCorrupt'> = {}): Promise<CustomVtabTask> {
  const dir = resolve(root, folder);
  const name = `vtab1k/${folder}`;
  if (!(await isDirectory(dir))) throw unknownVtabTask(folder, `and no folder ${dir} for a task of your own in the VTAB-1k layout`);
  const classesFile = join(dir, 'classes.txt');
  const classesText = await readFile(classesFile, 'utf8').catch(() => undefined);
  if (classesText !== undefined) {
    const classNames = classesText.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
    if (classNames.length === 0) throw new SplitFormatError({ file: classesFile }, 'expected one class name per line, found none');
    return { name, dir, numClasses: classNames.length, classNames, classesFrom: 'classes.txt', sources: [classesFile] };
  }
  const sources: string[] = [];
  let largest = -1;
  for (const split of VTAB1K_SPLITS) {
    const file = join(dir, `${split}.txt`);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    sources.push(file);
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === '') continue;
      const parsed = parseSplitLine(lines[i], { file, line: i + 1 }, Number.POSITIVE_INFINITY, name);
      if (parsed.ok) largest = Math.max(largest, parsed.label);
      else if (!options.skipCorrupt) throw parsed.error;
    }
  }
  if (sources.length === 0) throw new MissingDatasetError(name, VTAB1K_SPLITS.map((split) => join(dir, `${split}.txt`)));
  if (largest < 0) throw new SplitFormatError({ file: sources[0] }, 'no "<image path> <class id>" line in any list file; cannot count the classes');
  const numClasses = largest + 1;
  return { name, dir, numClasses, classNames: Array.from({ length: numClasses }, (_, i) => String(i)), classesFrom: 'labels', sources };
}

/** Loads one split of a {@link customVtabTask}: class ids must lie in `0..numClasses-1`; errors name file and line. */
export async function vtab1kCustom(task: CustomVtabTask, split: VtabSplit | string, options: LoadOptions = {}): Promise<ImageDataset> {
  if (!(VTAB1K_SPLITS as readonly string[]).includes(split)) throw new UnknownSplitError(split, VTAB1K_SPLITS, task.name);
  return readVtabSplit(task.dir, task.name, split, task.numClasses, task.classNames, options);
}
