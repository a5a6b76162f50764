import type { SampleOrigin } from './errors.js';
import { ClassCountError } from './errors.js';

/** Undecoded pixels held in memory (e.g. MNIST digits): interleaved, 8 bits per channel. */
export interface RawPixels {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
}

/** Where a sample's image comes from: a file path, encoded bytes (JPEG/PNG/WebP/...) or raw pixels. */
export type ImageSource = string | Uint8Array | RawPixels;

/** One sample: an image source and its class id. Datasets hold only these, never decoded floats. */
export interface ImageSample {
  readonly source: ImageSource;
  /** Class id in `0..numClasses-1`. */
  readonly label: number;
  /** Split file and line (or JSON key) the sample was read from, for error messages. */
  readonly origin?: SampleOrigin;
}

/** A split entry that was skipped while loading (only with `skipCorrupt: true`). */
export interface SkippedEntry {
  readonly origin: SampleOrigin;
  /** The error that would have been thrown (its `name` says the kind). */
  readonly error: Error;
}

/** Which of the benchmark's two preprocessing pipelines a dataset is evaluated with. */
export type PipelineKind = 'vtab' | 'fgvc';

/** One split of an image-classification dataset: sample sources and labels, plus class metadata. */
export interface ImageDataset {
  /** e.g. `vtab1k/cifar`, `fgvc/cub`, `mnist`, `emoji/apple`, `folder:/data/pets`. */
  readonly name: string;
  /** e.g. `train800`, `test`, `train`. */
  readonly split: string;
  /** Number of classes (the published count for VTAB-1k / FGVC tasks). */
  readonly numClasses: number;
  /** Class names indexed by class id (length `numClasses`). */
  readonly classNames: readonly string[];
  /** The samples, in split-file order. */
  readonly samples: readonly ImageSample[];
  /** Entries skipped at load time (empty unless `skipCorrupt` was set). */
  readonly skipped: readonly SkippedEntry[];
  /** The preprocessing pipeline the benchmark uses for this dataset. */
  readonly pipeline: PipelineKind;
}

/** Options shared by the loaders that read split files. */
export interface LoadOptions {
  /** Skip malformed lines, missing files and out-of-range ids (recorded in `dataset.skipped`) instead of throwing. */
  readonly skipCorrupt?: boolean;
  /** Check that every listed image file exists (default true; one directory listing per folder). */
  readonly checkFiles?: boolean;
  /**
   * Require the split to contain exactly the published number of classes (default false:
   * ids must only lie below it, so small fixtures and class-incomplete splits load).
   */
  readonly strictClassCount?: boolean;
}

/** Number of samples per class id. */
export function classCounts(dataset: Pick<ImageDataset, 'samples' | 'numClasses'>): number[] {
  const counts = new Array<number>(dataset.numClasses).fill(0);
  for (const sample of dataset.samples) counts[sample.label]++;
  return counts;
}

/**
 * Checks a dataset's class count against the published one: throws {@link ClassCountError} when
 * `numClasses` differs, or (with `strict`) when the split does not contain every class.
 */
export function checkClassCount(dataset: ImageDataset, published: number, strict = false): void {
  if (dataset.numClasses !== published) {
    throw new ClassCountError(dataset.name, published, dataset.numClasses, 'the class list');
  }
  if (strict) {
    const present = classCounts(dataset).filter((n) => n > 0).length;
    if (present !== published) throw new ClassCountError(dataset.name, published, present, `split ${dataset.split}`);
  }
}

/** Describes a sample's source for messages: the path, or `<n bytes>` / `<WxHxC pixels>`. */
export function describeSource(source: ImageSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return `<${source.length} encoded bytes>`;
  return `<${source.width}x${source.height}x${source.channels} raw pixels>`;
}
