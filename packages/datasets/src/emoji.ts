import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageDataset, ImageSample } from './dataset.js';
import { checkClassCount } from './dataset.js';
import { DatasetOptionError, SplitFormatError, UnknownSplitError } from './errors.js';
import { DirectoryIndex } from './files.js';
import { optionalPackageRoot } from './optional-peer.js';
import type { SplitSizes } from './splits.js';
import { vtab1kStyleSplit } from './splits.js';
import type { VtabSplit } from './vtab1k.js';
import { VTAB1K_SPLITS } from './vtab1k.js';

/** Emoji image vendors published as `emoji-datasource-<vendor>`. */
export type EmojiVendor = 'apple' | 'google' | 'twitter' | 'facebook';

/** The emoji categories used as classes (sorted; `Component` — skin-tone and hair swatches — is excluded). */
export const EMOJI_CLASSES: readonly string[] = [
  'Activities',
  'Animals & Nature',
  'Flags',
  'Food & Drink',
  'Objects',
  'People & Body',
  'Smileys & Emotion',
  'Symbols',
  'Travel & Places',
];

/** Options for {@link emoji}. */
export interface EmojiOptions extends SplitSizes {
  /** Seed of the split. Default 42. */
  readonly seed?: number;
  /** Default `apple` (the package `emoji-datasource-apple`). */
  readonly vendor?: EmojiVendor;
  /** Add each emoji's skin-tone variants as further images of its class. Default false. */
  readonly includeSkinTones?: boolean;
  /** Folder of the `emoji-datasource-<vendor>` package, if not resolvable from here. */
  readonly packageDir?: string;
}

interface EmojiEntry {
  image?: string;
  category?: string;
  skin_variations?: Record<string, { image?: string; [has: string]: unknown }>;
  [has: string]: unknown;
}

/**
 * A colour, natural-image-like classification set with no download: the 64 px PNG emoji of
 * `emoji-datasource-<vendor>@16` (an optional peer dependency), classed by their 9 categories
 * ({@link EMOJI_CLASSES}; 1,903 images for Apple without skin tones). Images listed but absent for
 * the vendor are left out. Split VTAB-1k-style by {@link vtab1kStyleSplit} with `seed`: 800 train,
 * 200 val, and test = all the rest (~900), stratified so the smallest category still has images in
 * each part. The PNGs have alpha: the transform composites it on its background (default white).
 */
export async function emoji(split: VtabSplit | string, options: EmojiOptions = {}): Promise<ImageDataset> {
  if (!(VTAB1K_SPLITS as readonly string[]).includes(split)) throw new UnknownSplitError(split, VTAB1K_SPLITS, 'emoji');
  const vendor = options.vendor ?? 'apple';
  if (!['apple', 'google', 'twitter', 'facebook'].includes(vendor)) throw new DatasetOptionError('vendor', vendor, 'apple, google, twitter or facebook');
  const packageName = `emoji-datasource-${vendor}`;
  const dir = options.packageDir ?? optionalPackageRoot(packageName, `the emoji dataset (vendor ${vendor})`, `${packageName}@16`);
  const file = join(dir, 'emoji.json');
  const entries = JSON.parse(await readFile(file, 'utf8')) as EmojiEntry[];
  if (!Array.isArray(entries)) throw new SplitFormatError({ file }, 'expected a JSON array of emoji entries');
  const imageDir = join(dir, 'img', vendor, '64');
  const files = new DirectoryIndex();
  const paths: string[] = [];
  const labels: number[] = [];
  const add = async (image: string | undefined, has: unknown, label: number) => {
    if (!image || has === false) return;
    const path = join(imageDir, image);
    if (!(await files.has(path))) return;
    paths.push(path);
    labels.push(label);
  };
  for (const entry of entries) {
    const label = EMOJI_CLASSES.indexOf(entry.category ?? '');
    if (label < 0) continue;
    await add(entry.image, entry[`has_img_${vendor}`], label);
    if (options.includeSkinTones && entry.skin_variations) {
      for (const variation of Object.values(entry.skin_variations)) await add(variation.image, variation[`has_img_${vendor}`], label);
    }
  }
  const splits = vtab1kStyleSplit(labels, EMOJI_CLASSES.length, options.seed ?? 42, options);
  const samples: ImageSample[] = Array.from(splits[split as VtabSplit], (i) => ({ source: paths[i], label: labels[i] }));
  const dataset: ImageDataset = {
    name: `emoji/${vendor}`,
    split,
    numClasses: EMOJI_CLASSES.length,
    classNames: EMOJI_CLASSES,
    samples,
    skipped: [],
    pipeline: 'vtab',
  };
  checkClassCount(dataset, EMOJI_CLASSES.length);
  return dataset;
}
