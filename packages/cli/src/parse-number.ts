import { UsageError } from './errors';

/** `value` of the flag `--option` as a positive integer; a {@link UsageError} naming the flag otherwise. */
export function positiveInteger(value: unknown, option: string): number {
  const n = typeof value === 'string' && value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${option} expects a positive integer, got "${String(value)}"`);
  return n;
}
