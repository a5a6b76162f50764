import { access, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { setFileSystem, type FileSystem } from './file-system';

/** Node's file system behind core's {@link FileSystem} seam; installed when core's Node entry is imported. */
export const nodeFileSystem: FileSystem = {
  async readFile(path) {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  },
  async readRange(path, start, length) {
    const file = await open(path, 'r');
    try {
      const out = new Uint8Array(length);
      const { bytesRead } = await file.read(out, 0, length, start);
      return out.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  },
  exists: (path) => access(path).then(
    () => true,
    () => false,
  ),
  writeFileAtomic,
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  join,
};

setFileSystem(nodeFileSystem);
