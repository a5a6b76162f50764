/**
 * Errors thrown by `@vpeft/datasets`. Each is a named class whose message says what was given,
 * where (file and line when there is one) and what is allowed.
 */

/** Base class of every error this package throws. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** Where a sample came from: a split file and its 1-based line, or a JSON split file and its key. */
export interface SampleOrigin {
  /** The split file (absolute path). */
  readonly file: string;
  /** 1-based line number in a text split file; absent for JSON split files. */
  readonly line?: number;
  /** The JSON key (relative image path) for JSON split files. */
  readonly key?: string;
}

/** Renders an origin as `file:line` or `file ["key"]`. */
export function formatOrigin(origin: SampleOrigin | undefined): string {
  if (!origin) return '';
  if (origin.line !== undefined) return `${origin.file}:${origin.line}`;
  if (origin.key !== undefined) return `${origin.file} [${JSON.stringify(origin.key)}]`;
  return origin.file;
}

/** A split file entry that cannot be parsed (text line or JSON value). */
export class SplitFormatError extends DatasetError {
  override name = 'SplitFormatError';
  constructor(readonly origin: SampleOrigin, readonly detail: string) {
    super(`${formatOrigin(origin)}: ${detail}`);
  }
}

/** A split file entry that names an image file that does not exist. */
export class MissingImageError extends DatasetError {
  override name = 'MissingImageError';
  constructor(readonly origin: SampleOrigin, readonly image: string) {
    super(`${formatOrigin(origin)}: image file not found: ${image}`);
  }
}

/** A class id outside `0..numClasses-1` (or outside the task's published class count). */
export class LabelOutOfRangeError extends DatasetError {
  override name = 'LabelOutOfRangeError';
  constructor(readonly origin: SampleOrigin, readonly label: number, readonly numClasses: number, readonly task: string) {
    super(`${formatOrigin(origin)}: class id ${label} is out of range for ${task}; expected an integer in 0..${numClasses - 1}`);
  }
}

/** A task or dataset name that is not known; lists the known names. */
export class UnknownTaskError extends DatasetError {
  override name = 'UnknownTaskError';
  constructor(readonly task: string, readonly known: readonly string[], readonly kind = 'task', readonly detail?: string) {
    super(`unknown ${kind} ${JSON.stringify(task)}${detail ? ` (${detail})` : ''}; known: ${known.join(', ')}`);
  }
}

/** A split name that the dataset does not have. */
export class UnknownSplitError extends DatasetError {
  override name = 'UnknownSplitError';
  constructor(readonly split: string, readonly known: readonly string[], readonly dataset: string) {
    super(`${dataset}: unknown split ${JSON.stringify(split)}; known: ${known.join(', ')}`);
  }
}

/** A dataset folder or split file that is missing. */
export class MissingDatasetError extends DatasetError {
  override name = 'MissingDatasetError';
  constructor(readonly dataset: string, readonly tried: readonly string[]) {
    super(`${dataset}: not found; looked for ${tried.join(', ')}`);
  }
}

/** The classes found do not match the task's published class count. */
export class ClassCountError extends DatasetError {
  override name = 'ClassCountError';
  constructor(readonly dataset: string, readonly expected: number, readonly actual: number, readonly where: string) {
    super(`${dataset}: found ${actual} classes in ${where}; the published class count is ${expected}`);
  }
}

/** An image that could not be read or decoded (corrupt, truncated, unsupported format). */
export class ImageDecodeError extends DatasetError {
  override name = 'ImageDecodeError';
  constructor(readonly image: string, readonly origin: SampleOrigin | undefined, readonly reason: string) {
    super(`${origin ? `${formatOrigin(origin)}: ` : ''}cannot decode image ${image}: ${reason}`);
  }
}

/** An optional peer package that a loader needs is not installed. */
export class MissingPackageError extends DatasetError {
  override name = 'MissingPackageError';
  constructor(readonly packageName: string, readonly purpose: string, readonly installSpec = packageName) {
    super(`${purpose} needs the npm package ${packageName}, which is not installed; install it with \`npm i ${installSpec}\` (or pnpm add / yarn add)`);
  }
}

/** An option value that is not allowed. */
export class DatasetOptionError extends DatasetError {
  override name = 'DatasetOptionError';
  constructor(readonly option: string, readonly given: unknown, readonly allowed: string) {
    super(`option \`${option}\` got ${typeof given === 'string' ? JSON.stringify(given) : String(given)}; expected ${allowed}`);
  }
}
