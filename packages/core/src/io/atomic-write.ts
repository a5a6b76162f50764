import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file atomically: the data goes to a temporary file in the same directory, is flushed
 * to disk, then renamed over the target. A crash leaves either the old file or the new one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(temp, 'w');
  } catch (error) {
    throw targetError(path, error);
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw targetError(path, error);
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw targetError(path, error);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its folder path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
};

/**
 * The error of a failed write, naming the file asked for (not the temporary file) and why; keeps the
 * Node error `code`, sets `path` to the target and the original as `cause`.
 */
function targetError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return error as Error;
  return Object.assign(new Error(`cannot write ${path}: ${REASONS[code] ?? (error as Error).message} (${code})`, { cause: error }), { code, path });
}
