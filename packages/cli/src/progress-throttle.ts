import { UsageError } from './errors';

/** Seconds between progress lines in a log (stderr not a terminal), unless `VPEFT_PROGRESS_INTERVAL` says otherwise. */
export const LOG_PROGRESS_INTERVAL = 5;
/** Seconds between redraws of the progress line on a terminal. */
export const TTY_PROGRESS_INTERVAL = 0.1;

/**
 * Decides which progress updates are shown, as tqdm's `mininterval` does: at most one every
 * `intervalSeconds`, except that the first update of a stream never seen before (a new run, a new
 * cell) and an update marked last always show. A stream that comes back (training after each
 * epoch's validation, the next epoch's validation) is throttled like any update, so a per-epoch
 * evaluation adds one line per epoch to a log: its last.
 */
export class ProgressThrottle {
  private readonly seen = new Set<string>();
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly intervalSeconds: number,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  /** Whether to show this update of stream `key` (and, if so, count it as shown). */
  shouldShow(key: string, last: boolean): boolean {
    const now = this.now();
    if (!last && this.seen.has(key) && now - this.lastAt < this.intervalSeconds) return false;
    this.seen.add(key);
    this.lastAt = now;
    return true;
  }
}

/** The progress interval in seconds: {@link TTY_PROGRESS_INTERVAL} on a terminal, else `VPEFT_PROGRESS_INTERVAL` or {@link LOG_PROGRESS_INTERVAL}. */
export function progressInterval(tty: boolean, env: NodeJS.ProcessEnv = process.env): number {
  if (tty) return TTY_PROGRESS_INTERVAL;
  const text = env.VPEFT_PROGRESS_INTERVAL;
  if (text === undefined || text === '') return LOG_PROGRESS_INTERVAL;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`VPEFT_PROGRESS_INTERVAL expects seconds >= 0, got "${text}"`);
  return seconds;
}
