import { open } from 'node:fs/promises';
import { FileFormatError, type TensorData } from '@vpeft/core';
import { decodeNpyData, parseNpyHeader } from './npy';
import { readZipDirectory, readZipEntry } from './zip';

/**
 * Reads the arrays of a NumPy `.npz` archive (`np.savez` or `np.savez_compressed`) as float32, by name
 * without the `.npy` suffix (`Transformer/encoderblock_0/LayerNorm_0/scale`). The zip's central
 * directory is read first, then each entry once — the file is never held in memory as a whole.
 */
export async function readNpz(path: string): Promise<Map<string, TensorData>> {
  const handle = await open(path, 'r');
  try {
    const tensors = new Map<string, TensorData>();
    for (const entry of await readZipDirectory(handle, path)) {
      if (entry.name.endsWith('/')) continue;
      if (!entry.name.endsWith('.npy')) throw new FileFormatError(path, `entry "${entry.name}" is not a .npy array; an .npz holds only .npy files`);
      const bytes = await readZipEntry(handle, entry, path);
      const where = `${path}:${entry.name}`;
      const header = parseNpyHeader(bytes, where);
      tensors.set(entry.name.slice(0, -'.npy'.length), decodeNpyData(header, bytes.subarray(header.dataOffset), where));
    }
    return tensors;
  } finally {
    await handle.close();
  }
}
