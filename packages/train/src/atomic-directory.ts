import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The sibling a directory is moved to while its replacement is renamed into place. */
export const PREVIOUS_SUFFIX = '.previous';
const TEMP_PREFIX = '.tmp-';

/**
 * Replaces `parent/name` with a directory filled by `write`, so that a crash at any point leaves a
 * complete copy readable through {@link resolveCommittedDirectory}:
 * 1. `write` fills a fresh `parent/.tmp-<random>` (a failure removes it; `name` is untouched);
 * 2. the old `name` is renamed to `name.previous`;
 * 3. the new directory is renamed to `name`;
 * 4. `name.previous` is removed.
 * Between 2 and 3 only `name.previous` exists, and readers fall back to it.
 */
export async function replaceDirectory(parent: string, name: string, write: (dir: string) => Promise<void>): Promise<void> {
  await mkdir(parent, { recursive: true });
  const temp = join(parent, `${TEMP_PREFIX}${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp);
  try {
    await write(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  const target = join(parent, name);
  const previous = join(parent, `${name}${PREVIOUS_SUFFIX}`);
  if (await exists(target)) {
    await rm(previous, { recursive: true, force: true });
    await rename(target, previous);
  }
  await rename(temp, target);
  await rm(previous, { recursive: true, force: true });
}

/**
 * The committed copy of `parent/name`: the directory itself when it holds `marker`, else the
 * `name.previous` left by a replacement interrupted between its two renames; undefined if neither.
 */
export async function resolveCommittedDirectory(parent: string, name: string, marker: string): Promise<string | undefined> {
  for (const dir of [join(parent, name), join(parent, `${name}${PREVIOUS_SUFFIX}`)]) {
    if (await exists(join(dir, marker))) return dir;
  }
  return undefined;
}

/** Removes temporary directories left by interrupted {@link replaceDirectory} calls. */
export async function removeStaleTemporaries(parent: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  await Promise.all(entries.filter((e) => e.startsWith(TEMP_PREFIX)).map((e) => rm(join(parent, e), { recursive: true, force: true })));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
