import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of the files directly in `dir` (an adapter directory: config + tensors). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir)) total += (await stat(join(dir, entry))).size;
  return total;
}
