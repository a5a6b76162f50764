import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { setFileSystem, type FileSystem } from './file-system';

/** Node's file system behind core's {@link FileSystem} seam; installed when core's Node entry is imported. */
export const nodeFileSystem: FileSystem = {
  async readFile(path) {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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
