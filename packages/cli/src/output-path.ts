import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors';

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The nearest existing ancestor of `path` (the path itself included) and its stats. */
function nearestExisting(path: string): { path: string; stats: Stats } {
  for (let p = resolve(path); ; p = dirname(p)) {
    const stats = statOf(p);
    if (stats) return { path: p, stats };
    if (dirname(p) === p) throw new UsageError(`cannot resolve ${path}`);
  }
}

/** Throws unless the directory `dir` (which may not exist yet) can be created and written. */
function checkWritableFolder(dir: string, option: string, given: string): void {
  const existing = nearestExisting(dir);
  if (!existing.stats.isDirectory()) {
    const what = existing.path === resolve(given) ? 'is a file, not a folder' : `cannot be created: ${existing.path} is a file, not a folder`;
    throw new UsageError(`${option} ${given}: ${what}`);
  }
  try {
    accessSync(existing.path, constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`${option} ${given}: the folder ${existing.path} is not writable`);
  }
}

/**
 * Checks, before any work starts, that the output folder given to `option` (e.g. `--out DIR`) can be
 * created or written: not a file, not under a file, in a writable folder. Creates nothing.
 * Throws a {@link UsageError} naming the option, the path and what is wrong.
 */
export function checkOutputFolder(dir: string, option = '--out'): void {
  checkWritableFolder(dir, option, dir);
}

/**
 * Checks, before any work starts, that the output file given to `option` (e.g. `--out FILE`) can be
 * written: not a folder, its folder not under a file and writable. Creates nothing.
 */
export function checkOutputFile(file: string, option = '--out'): void {
  if (statOf(file)?.isDirectory() || /[/\\]$/.test(file)) throw new UsageError(`${option} ${file}: is a folder; give a file path`);
  checkWritableFolder(dirname(resolve(file)), option, file);
}
