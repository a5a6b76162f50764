import { FileFormatError, VpeftError } from '../errors/errors';
import { fileSystem } from './file-system';
import { decodeBFloat16, decodeFloat16 } from './half';

/**
 * safetensors (https://github.com/huggingface/safetensors) reading and writing, with no
 * dependency: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`), then the
 * raw little-endian tensor data, offsets relative to the end of the header.
 */

/** The dtypes vpeft reads; every one is returned as a `Float32Array`. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/**
 * The dtypes {@link parseSafetensors} accepts. Floats: F32 as is, F16 and BF16 exactly, F64 rounded
 * to the nearest float32. Integers and BOOL: converted exactly, and a value whose magnitude is above
 * 2^24 (not exactly representable in float32) is rejected. Others (e.g. F8_E4M3, C64) throw.
 */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'];

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** One tensor read from a safetensors file: its stored dtype, shape and values as float32 (row-major). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

/** A parsed safetensors file: the `__metadata__` string map (if present) and the tensors by name, in header order. */
export interface SafetensorsFile {
  metadata: Record<string, string> | undefined;
  tensors: Map<string, SafetensorsTensor>;
}

/** A tensor to write: shape and float32 values (row-major, `data.length` = product of `shape`). */
export interface SafetensorsTensorInput {
  shape: readonly number[];
  data: Float32Array;
}

/** Tensors to write, by name, as a plain object or a `Map`. */
export type SafetensorsTensors = Record<string, SafetensorsTensorInput> | Map<string, SafetensorsTensorInput>;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAX_EXACT_INT = 2 ** 24;
const METADATA_KEY = '__metadata__';

/**
 * Parses a safetensors file held in memory. F32, F16, BF16, F64 and integer/BOOL tensors are
 * returned as `Float32Array`s (see {@link SAFETENSORS_DTYPES}); the returned arrays are copies,
 * independent of `bytes`.
 *
 * @param bytes - the whole file.
 * @param source - a name for the file in error messages (a path, or `'<buffer>'`).
 * @throws FileFormatError (naming `source`) when the file is shorter than 8 bytes, the header
 *   length points beyond the file, the header is not valid UTF-8 JSON, a tensor entry lacks or
 *   mis-states `dtype` / `shape` / `data_offsets`, offsets are out of order, overlap, leave gaps or
 *   do not match shape × dtype size, a dtype is unsupported, the data are truncated, or an integer
 *   value is not exactly representable as float32.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const fail = (detail: string): never => {
    throw new FileFormatError(source, detail);
  };
  if (bytes.length < 8) {
    fail(`not a safetensors file: ${bytes.length} byte(s), but the 8-byte header length alone needs 8`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`header length ${headerLength} is beyond the file: only ${bytes.length - 8} byte(s) follow the 8-byte length (truncated, or not a safetensors file)`);
  }
  const n = Number(headerLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail(`header (${n} bytes) is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`header is not valid JSON (${(error as Error).message}): ${preview(text)}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return fail(`header must be a JSON object, got ${Array.isArray(header) ? 'an array' : header === null ? 'null' : typeof header}`);
  }

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> | undefined;
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(raw, fail);
      continue;
    }
    const where = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
    const entry = raw as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!(field in entry)) fail(`${where}: missing "${field}"`);
    }
    const dtype = entry.dtype;
    if (typeof dtype !== 'string') return fail(`${where}: "dtype" must be a string, got ${JSON.stringify(dtype)}`);
    if (!(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      fail(`${where}: unsupported dtype "${dtype}"; supported: ${SAFETENSORS_DTYPES.join(', ')}`);
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      return fail(`${where}: "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt) || offsets[0] > offsets[1]) {
      return fail(`${where}: "data_offsets" must be [begin, end] with integers 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = shape.reduce((a: number, b: number) => a * b, 1);
    const expectedBytes = numel * ITEM_SIZE[dtype as SafetensorsDtype];
    if (end - begin !== expectedBytes) {
      fail(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} byte(s), but ${dtype} with shape [${shape.join(', ')}] needs ${expectedBytes}`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }

  // The data section must be covered exactly: no overlap, no gap, nothing missing or left over.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const needed = byOffset.reduce((m, e) => Math.max(m, e.end), 0);
  if (needed > dataLength) {
    const last = byOffset.find((e) => e.end === needed)!;
    fail(`truncated data: the header describes ${needed} byte(s) of tensor data but only ${dataLength} follow the header (tensor "${last.name}" needs bytes [${last.begin}, ${last.end}))`);
  }
  let cursor = 0;
  let previous: (typeof entries)[number] | undefined;
  for (const e of byOffset) {
    if (e.begin < cursor) {
      fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${previous!.name}" [${previous!.begin}, ${previous!.end}]`);
    }
    if (e.begin > cursor) fail(`data bytes [${cursor}, ${e.begin}) belong to no tensor (before tensor "${e.name}"); offsets are out of range`);
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    fail(`${dataLength - cursor} byte(s) after the last tensor's data belong to no tensor (data section is ${dataLength} bytes, tensors end at ${cursor})`);
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const data = decode(bytes, view, dataStart + e.begin, dataStart + e.end, e.dtype, (i, v) =>
      fail(`tensor "${e.name}" (${e.dtype}): value ${v} at index ${i} is not exactly representable as float32 (|value| > 2^24)`),
    );
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { metadata, tensors };
}

/**
 * Reads and parses a safetensors file (see {@link parseSafetensors}); errors name `path`.
 * File-system errors (e.g. ENOENT) are passed through unchanged.
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await fileSystem('readSafetensors').readFile(path), path);
}

/**
 * The `__metadata__` of a safetensors file, read from its header only (the tensors are not read).
 * Undefined when the file has none or its header is not a safetensors header.
 */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string> | undefined> {
  const fs = fileSystem('readSafetensorsMetadata');
  try {
    const size = await fs.readRange(path, 0, 8);
    const length = Number(new DataView(size.buffer, size.byteOffset, size.byteLength).getBigUint64(0, true));
    if (length > 100_000_000) return undefined;
    const header = await fs.readRange(path, 8, length);
    return (JSON.parse(new TextDecoder().decode(header)) as { __metadata__?: Record<string, string> }).__metadata__;
  } catch {
    return undefined; // not a safetensors header: the full parser reports what is wrong
  }
}

/**
 * Serialises tensors to safetensors bytes, all as F32. Tensors are written in sorted name order
 * (JavaScript string order), `__metadata__` first when given; the JSON header is padded with
 * spaces so the data start at an 8-byte-aligned offset.
 *
 * @param tensors - name → `{ shape, data }`, a plain object or a `Map`.
 * @param metadata - optional string → string map stored as `__metadata__`.
 * @throws VpeftError when a name is empty or `__metadata__`, a shape is not a list of non-negative
 *   integers, `data.length` differs from the product of `shape`, or a metadata value is not a string.
 */
export function serializeSafetensors(tensors: SafetensorsTensors, metadata?: Record<string, string>): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new VpeftError(`serializeSafetensors: metadata "${key}" must be a string (safetensors metadata is string → string), got ${typeof value}`);
      }
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  const arrays: Float32Array[] = [];
  for (const [name, tensor] of list) {
    if (name === '' || name === METADATA_KEY) throw new VpeftError(`serializeSafetensors: invalid tensor name ${JSON.stringify(name)}`);
    const shape = [...tensor.shape];
    if (!shape.every(isNonNegativeInt)) {
      throw new VpeftError(`serializeSafetensors: tensor "${name}" has shape ${JSON.stringify(shape)}; expected non-negative integers`);
    }
    const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as ArrayLike<number>);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (data.length !== numel) {
      throw new VpeftError(`serializeSafetensors: tensor "${name}" has shape [${shape.join(', ')}] (${numel} values) but its data has ${data.length}`);
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
    arrays.push(data);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const data of arrays) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i]!, true);
    }
    pos += data.byteLength;
  }
  return out;
}

/**
 * Serialises tensors (see {@link serializeSafetensors}) and writes them to `path` atomically: to
 * a temporary file in the same directory, flushed, then renamed over `path`, so readers see the
 * old file or the complete new one, never a partial write. Validation happens before anything is
 * written.
 */
export async function writeSafetensors(path: string, tensors: SafetensorsTensors, metadata?: Record<string, string>): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  await fileSystem('writeSafetensors').writeFileAtomic(path, bytes);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function preview(text: string): string {
  const t = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return JSON.stringify(t);
}

function parseMetadata(raw: unknown, fail: (detail: string) => never): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`"${METADATA_KEY}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`"${METADATA_KEY}.${k}" must be a string, got ${JSON.stringify(v)}`);
    out[k] = v as string;
  }
  return out;
}

function decode(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  dtype: SafetensorsDtype,
  inexact: (index: number, value: number | bigint) => never,
): Float32Array {
  const count = (end - start) / ITEM_SIZE[dtype];
  switch (dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN) return new Float32Array(bytes.slice(start, end).buffer);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, true);
      return out;
    }
    case 'F16':
      return decodeFloat16(bytes, start, count);
    case 'BF16':
      return decodeBFloat16(bytes, start, count);
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, true);
      return out;
    }
    case 'I64':
    case 'U64': {
      const out = new Float32Array(count);
      const limit = BigInt(MAX_EXACT_INT);
      for (let i = 0; i < count; i++) {
        const v = dtype === 'I64' ? view.getBigInt64(start + 8 * i, true) : view.getBigUint64(start + 8 * i, true);
        if (v > limit || v < -limit) inexact(i, v);
        out[i] = Number(v);
      }
      return out;
    }
    default: {
      const read = INT_READERS[dtype];
      const size = ITEM_SIZE[dtype];
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const v = read(view, start + size * i);
        if (v > MAX_EXACT_INT || v < -MAX_EXACT_INT) inexact(i, v);
        out[i] = v;
      }
      return out;
    }
  }
}

const INT_READERS: Record<'I32' | 'I16' | 'I8' | 'U32' | 'U16' | 'U8' | 'BOOL', (view: DataView, at: number) => number> = {
  I32: (v, at) => v.getInt32(at, true),
  I16: (v, at) => v.getInt16(at, true),
  I8: (v, at) => v.getInt8(at),
  U32: (v, at) => v.getUint32(at, true),
  U16: (v, at) => v.getUint16(at, true),
  U8: (v, at) => v.getUint8(at),
  BOOL: (v, at) => (v.getUint8(at) ? 1 : 0),
};
