import { UsageError } from './errors';

const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };

/** A size such as `500MB`, `20GB`, `1.5GiB` or `1048576` in bytes; a {@link UsageError} naming `option` otherwise. */
export function parseBytes(text: string, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2]!.toUpperCase()] : undefined;
  if (!match || unit === undefined) throw new UsageError(`${option} expects a size such as 500MB, 20GB or 1.5GiB, got "${text}"`);
  return Math.round(Number(match[1]) * unit);
}
