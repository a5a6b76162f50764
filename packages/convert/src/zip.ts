import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { FileFormatError } from '@vpeft/core';

/** One file in a zip archive, from its central directory. */
export interface ZipEntry {
  name: string;
  /** 0: stored, 8: deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

async function readAt(handle: FileHandle, position: number, length: number, source: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  const { bytesRead } = await handle.read(bytes, 0, length, position);
  if (bytesRead !== length) throw new FileFormatError(source, `truncated zip archive (wanted ${length} bytes at ${position}, got ${bytesRead})`);
  return bytes;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(v: DataView, at: number): number {
  return Number(v.getBigUint64(at, true));
}

/**
 * The entries of a zip archive (zip64 included), read from its central directory at the end of the
 * file — only the directory is read, not the entries.
 */
export async function readZipDirectory(handle: FileHandle, source: string): Promise<ZipEntry[]> {
  const { size } = await handle.stat();
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readAt(handle, size - tailLength, tailLength, source);
  const t = view(tail);
  let at = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (t.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new FileFormatError(source, 'not a zip archive (.npz): no end-of-central-directory record');
  let count = t.getUint16(at + 10, true);
  let directorySize = t.getUint32(at + 12, true);
  let directoryOffset = t.getUint32(at + 16, true);
  if (count === 0xffff || directorySize === U32_MAX || directoryOffset === U32_MAX) {
    const locatorAt = at - 20;
    if (locatorAt < 0 || t.getUint32(locatorAt, true) !== ZIP64_LOCATOR) throw new FileFormatError(source, 'zip64 archive without its end-of-central-directory locator');
    const record = view(await readAt(handle, u64(t, locatorAt + 8), 56, source));
    if (record.getUint32(0, true) !== ZIP64_EOCD) throw new FileFormatError(source, 'bad zip64 end-of-central-directory record');
    count = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
  }
  const directory = await readAt(handle, directoryOffset, directorySize, source);
  const d = view(directory);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.length || d.getUint32(p, true) !== CENTRAL) throw new FileFormatError(source, `bad zip central directory entry ${i}`);
    const nameLength = d.getUint16(p + 28, true);
    const extraLength = d.getUint16(p + 30, true);
    const commentLength = d.getUint16(p + 32, true);
    const entry: ZipEntry = {
      name: new TextDecoder().decode(directory.subarray(p + 46, p + 46 + nameLength)),
      method: d.getUint16(p + 10, true),
      compressedSize: d.getUint32(p + 20, true),
      size: d.getUint32(p + 24, true),
      localHeaderOffset: d.getUint32(p + 42, true),
    };
    readZip64Extra(d, p + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Zip64 extra field (id 1): 64-bit sizes/offset, present for each 32-bit field that is 0xFFFFFFFF. */
function readZip64Extra(d: DataView, start: number, length: number, entry: ZipEntry): void {
  for (let q = start; q + 4 <= start + length; ) {
    const id = d.getUint16(q, true);
    const size = d.getUint16(q + 2, true);
    if (id === 1) {
      let r = q + 4;
      if (entry.size === U32_MAX) (entry.size = u64(d, r)), (r += 8);
      if (entry.compressedSize === U32_MAX) (entry.compressedSize = u64(d, r)), (r += 8);
      if (entry.localHeaderOffset === U32_MAX) entry.localHeaderOffset = u64(d, r);
    }
    q += 4 + size;
  }
}

/** The uncompressed bytes of one entry (stored or deflated). */
export async function readZipEntry(handle: FileHandle, entry: ZipEntry, source: string): Promise<Uint8Array> {
  const local = view(await readAt(handle, entry.localHeaderOffset, 30, source));
  if (local.getUint32(0, true) !== LOCAL) throw new FileFormatError(source, `bad zip local header for "${entry.name}"`);
  const dataStart = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const raw = await readAt(handle, dataStart, entry.compressedSize, source);
  if (entry.method === 0) return raw;
  if (entry.method === 8) {
    const inflated = inflateRawSync(raw);
    if (inflated.length !== entry.size) throw new FileFormatError(source, `"${entry.name}" inflates to ${inflated.length} bytes, the directory says ${entry.size}`);
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  }
  throw new FileFormatError(source, `"${entry.name}" uses zip compression method ${entry.method}; stored (0) and deflate (8) are supported`);
}
