import { ProgressThrottle, progressInterval } from './progress-throttle';

/** Which progress stream an update belongs to, and whether it is the stream's last. */
export interface ProgressOptions {
  /** The stream (a run, a bench cell): its first update always shows. Default: one stream. */
  readonly key?: string;
  /** The stream's last update (e.g. the last step): always shows. */
  readonly last?: boolean;
}

/** Where a command writes: human text on a TTY, or one JSON document with `--json`. */
export interface Output {
  readonly json: boolean;
  /** The command's result: JSON as is, or the text made by `text()`. */
  result(value: unknown, text: () => string): void;
  /**
   * A progress update (stderr): redrawn in place on a terminal; in a log, at most one line every
   * few seconds plus the first and last of each stream (an update held back is printed before the
   * next note or result); every update as a JSON line with `--json`.
   */
  progress(event: Record<string, unknown>, text: () => string, options?: ProgressOptions): void;
  /** A note for humans (stderr), suppressed with --json. */
  note(text: string): void;
}

/** Settings of {@link processOutput} that tests change. */
export interface OutputSettings {
  /** Whether stderr is a terminal. Default `process.stderr.isTTY`. */
  readonly tty?: boolean;
  /** Seconds between progress lines. Default {@link progressInterval}. */
  readonly intervalSeconds?: number;
  /** Clock in seconds. Default `performance.now() / 1000`. */
  readonly now?: () => number;
}

/** The process's stdout/stderr as an {@link Output}. */
export function processOutput(json: boolean, settings: OutputSettings = {}): Output {
  const tty = (settings.tty ?? Boolean(process.stderr.isTTY)) && !json;
  const throttle = new ProgressThrottle(settings.intervalSeconds ?? progressInterval(tty), settings.now);
  let drawn = false;
  let held: (() => string) | undefined;
  const show = (text: string): void => {
    if (tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      drawn = true;
    } else {
      process.stderr.write(`${text}\n`);
    }
  };
  const endProgress = (): void => {
    if (held) show(held());
    held = undefined;
    if (drawn) process.stderr.write('\n');
    drawn = false;
  };
  return {
    json,
    result(value, text) {
      endProgress();
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    },
    progress(event, text, options = {}) {
      if (json) {
        process.stderr.write(`${JSON.stringify(event)}\n`);
      } else if (throttle.shouldShow(options.key ?? '', options.last ?? false)) {
        held = undefined;
        show(text());
      } else {
        held = text;
      }
    },
    note(text) {
      if (json) return;
      endProgress();
      process.stderr.write(`${text}\n`);
    },
  };
}
