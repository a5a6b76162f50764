/** Where a command writes: human text on a TTY, or one JSON document with `--json`. */
export interface Output {
  readonly json: boolean;
  /** The command's result: JSON as is, or the text made by `text()`. */
  result(value: unknown, text: () => string): void;
  /** A progress line (stderr; redrawn in place on a TTY; JSON lines with --json). */
  progress(event: Record<string, unknown>, text: () => string): void;
  /** A note for humans (stderr), suppressed with --json. */
  note(text: string): void;
}

/** The process's stdout/stderr as an {@link Output}. */
export function processOutput(json: boolean): Output {
  const tty = Boolean(process.stderr.isTTY) && !json;
  let drawn = false;
  return {
    json,
    result(value, text) {
      if (drawn) process.stderr.write('\n');
      drawn = false;
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    },
    progress(event, text) {
      if (json) {
        process.stderr.write(`${JSON.stringify(event)}\n`);
      } else if (tty) {
        process.stderr.write(`\r\x1b[2K${text()}`);
        drawn = true;
      } else {
        process.stderr.write(`${text()}\n`);
      }
    },
    note(text) {
      if (json) return;
      if (drawn) process.stderr.write('\n');
      drawn = false;
      process.stderr.write(`${text}\n`);
    },
  };
}
