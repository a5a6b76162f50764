import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultCacheDirectory, DiskCache, formatBytes } from '@vpeft/train';
import { UsageError } from '../errors';
import type { Output } from '../output';

export const CACHE_HELP = `vpeft cache — the feature cache's folder: where it is, its size, and clean-up

  vpeft cache [--dir DIR] [--clear] [--json]

  --dir DIR   the cache folder (default $VPEFT_CACHE_DIR or ~/.cache/vpeft/features)
  --clear     remove every cached entry (training refills what it needs)
  Training keeps the folder under --cache-limit (default 20GB) by evicting the least recently used entries.
`;

/** `vpeft cache`: prints the feature cache's folder and size; `--clear` empties it. */
export async function cacheCommand(args: string[], out: Output): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options: { dir: { type: 'string' }, clear: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(CACHE_HELP);
    return;
  }
  const dir = (values.dir as string | undefined) ?? defaultCacheDirectory();
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${values.dir !== undefined ? '--dir' : 'the feature cache folder'} ${dir}: is a file, not a folder; give a folder (default $VPEFT_CACHE_DIR or ~/.cache/vpeft/features)`);
  const cache = new DiskCache(dir, Number.POSITIVE_INFINITY);
  const before = await cache.size();
  if (values.clear) await cache.clear();
  const after = values.clear ? await cache.size() : before;
  out.result({ dir, bytes: after, cleared: values.clear ? before - after : 0 }, () =>
    values.clear ? `feature cache ${dir}: removed ${formatBytes(before - after)}; ${formatBytes(after)} left` : `feature cache ${dir}: ${formatBytes(before)}`,
  );
}
