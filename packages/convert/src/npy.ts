import { decodeFloat16, FileFormatError, type TensorData } from '@vpeft/core';
import { numel, permute } from './tensor-data';

/** The parsed header of a `.npy` array: dtype, shape and where the data start. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the data from the start of the `.npy` bytes. */
  dataOffset: number;
  /** Column-major data (`fortran_order: True`, e.g. `np.save` of a transposed array). */
  fortranOrder: boolean;
}

/** The little-endian float dtypes vpeft reads from `.npy` files. */
export type NpyDtype = '<f4' | '<f2' | '<f8';

const ITEM_SIZE: Record<NpyDtype, number> = { '<f4': 4, '<f2': 2, '<f8': 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses a `.npy` header (format versions 1-3) from the first bytes of the array: `prefix` must hold
 * at least the header (10 bytes tell its length; see {@link npyHeaderLength}).
 */
export function parseNpyHeader(prefix: Uint8Array, source: string): NpyHeader {
  const length = npyHeaderLength(prefix, source);
  if (prefix.length < length) throw new FileFormatError(source, `truncated .npy header (${prefix.length} of ${length} bytes)`);
  const major = prefix[6]!;
  const start = major === 1 ? 10 : 12;
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(prefix.subarray(start, length));
  const descr = /'descr':\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new FileFormatError(source, `malformed .npy header ${JSON.stringify(text.trim())}`);
  const dtype = (descr === '<f4' || descr === '<f2' || descr === '<f8' ? descr : descr === '=f4' || descr === 'f4' ? '<f4' : undefined) as NpyDtype | undefined;
  if (!dtype) throw new FileFormatError(source, `array dtype "${descr}" is not supported; expected little-endian float32, float16 or float64 ('<f4', '<f2', '<f8')`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new FileFormatError(source, `bad .npy shape (${shapeText})`);
  return { dtype, shape, dataOffset: length, fortranOrder: fortran === 'True' };
}

/** The total header length (magic, version, length field, header text) from the first 12 bytes of a `.npy`. */
export function npyHeaderLength(prefix: Uint8Array, source: string): number {
  if (prefix.length < 12 || MAGIC.some((b, i) => prefix[i] !== b)) throw new FileFormatError(source, 'not a .npy array (no \\x93NUMPY magic)');
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const major = prefix[6]!;
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) return 12 + view.getUint32(8, true);
  throw new FileFormatError(source, `.npy format version ${major} is not supported (1-3 are)`);
}

/** The byte size of the data an `.npy` header describes. */
export function npyDataSize(header: NpyHeader): number {
  return numel(header.shape) * ITEM_SIZE[header.dtype];
}

/** The array's values as float32 in row-major order, from its raw little-endian data bytes. */
export function decodeNpyData(header: NpyHeader, bytes: Uint8Array, source: string): TensorData {
  const n = numel(header.shape);
  if (bytes.length < npyDataSize(header)) throw new FileFormatError(source, `truncated .npy data (${bytes.length} of ${npyDataSize(header)} bytes)`);
  let data: Float32Array;
  if (header.dtype === '<f2') data = decodeFloat16(bytes, 0, n);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    data = new Float32Array(n);
    if (header.dtype === '<f4') for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
    else for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, true);
  }
  if (!header.fortranOrder || header.shape.length < 2) return { shape: header.shape, data };
  // Column-major data are the row-major data of the reversed shape; reversing the axes restores it.
  const reversed = [...header.shape].reverse();
  return permute({ shape: reversed, data }, reversed.map((_, i) => reversed.length - 1 - i));
}
