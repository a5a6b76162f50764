import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { ImageDataset, ImageSample, PipelineKind } from './dataset.js';
import { checkClassCount } from './dataset.js';
import { MissingDatasetError } from './errors.js';
import { IMAGE_EXTENSIONS } from './files.js';

/** Options for {@link imageFolder}. */
export interface ImageFolderOptions {
  /** Expected number of classes (e.g. the task's published count); a mismatch throws `ClassCountError`. */
  readonly expectedClasses?: number;
  /** File extensions to pick up (lower case, with dot). Default: common image formats. */
  readonly extensions?: readonly string[];
  /** Pipeline the dataset is meant for. Default `vtab`. */
  readonly pipeline?: PipelineKind;
  /** Name of the split, for messages. Default `all`. */
  readonly split?: string;
}

async function listImages(dir: string, extensions: ReadonlySet<string>): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listImages(path, extensions)));
    else if (extensions.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found;
}

/**
 * A dataset from a folder with one sub-folder per class (torchvision's `ImageFolder`): class ids
 * follow the sorted sub-folder names; images are found recursively, sorted by path; hidden
 * entries are ignored. Only paths and labels are held.
 */
export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageDataset> {
  const dir = resolve(root);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    throw new MissingDatasetError(`folder:${dir}`, [dir]);
  }
  const classNames = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const extensions = new Set(options.extensions ?? IMAGE_EXTENSIONS);
  const samples: ImageSample[] = [];
  for (let label = 0; label < classNames.length; label++) {
    for (const path of await listImages(join(dir, classNames[label]), extensions)) samples.push({ source: path, label });
  }
  const dataset: ImageDataset = {
    name: `folder:${dir}`,
    split: options.split ?? 'all',
    numClasses: classNames.length,
    classNames,
    samples,
    skipped: [],
    pipeline: options.pipeline ?? 'vtab',
  };
  if (options.expectedClasses !== undefined) checkClassCount(dataset, options.expectedClasses);
  return dataset;
}
