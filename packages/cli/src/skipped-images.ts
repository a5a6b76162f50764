import { formatOrigin, type BatchOptions, type ImageDataset, type ImageDecodeError } from '@vpeft/datasets';

/** One split entry or image that `--skip-corrupt` left out. */
export interface SkippedImage {
  /** The split file and line (or JSON key), or the image path when there is none. */
  readonly where: string;
  /** The error class, e.g. `ImageDecodeError`, `MissingImageError`, `SplitFormatError`. */
  readonly error: string;
  /** The error's message. */
  readonly message: string;
}

/** What a command's result reports about skipped data (present whenever `--skip-corrupt` is on). */
export interface SkippedReport {
  readonly count: number;
  readonly entries: readonly SkippedImage[];
}

/**
 * Collects, once per entry, what `--skip-corrupt` left out: split-file entries dropped at load time
 * (malformed line, missing file, class id out of range) and images that failed to decode while
 * batching (each is retried, and skipped, every epoch; it is listed once).
 */
export class SkipLog {
  private readonly entries = new Map<string, SkippedImage>();

  constructor(readonly enabled: boolean) {}

  /** Records the entries the loaders skipped in `datasets`. */
  addLoaded(datasets: readonly ImageDataset[]): void {
    for (const dataset of datasets) for (const { origin, error } of dataset.skipped) this.add(formatOrigin(origin), error);
  }

  /** The `batches` options that skip undecodable images into this log (none when disabled). */
  batchOptions(): Pick<BatchOptions, 'skipCorrupt' | 'onSkip'> {
    if (!this.enabled) return {};
    return { skipCorrupt: true, onSkip: (error: ImageDecodeError) => this.add(error.origin ? formatOrigin(error.origin) : error.image, error) };
  }

  private add(where: string, error: Error): void {
    if (!this.entries.has(where)) this.entries.set(where, { where, error: error.name, message: error.message });
  }

  /** The report for the result, or undefined when `--skip-corrupt` is off (then nothing can be skipped). */
  report(): SkippedReport | undefined {
    if (!this.enabled) return undefined;
    const entries = [...this.entries.values()];
    return { count: entries.length, entries };
  }

  /** Lines for the text result: the count and every skipped entry. */
  text(): string {
    const report = this.report();
    if (!report) return '';
    return [`--skip-corrupt: ${report.count} skipped`, ...report.entries.map((e) => `  ${e.error}: ${e.message}`)].join('\n');
  }
}
