import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeFloat16, writeFileAtomic } from '@vpeft/core';
import { encodeFloat16 } from './float16';
import { rowWidth, type RowSource, type RowSpec } from './rows';

/** How cached rows are stored on disk: float32 (bit-exact) or float16 (half the bytes, ~3 decimal digits). */
export type CacheDtype = 'float32' | 'float16';

const CHUNK_FORMAT = 'vpeft-feature-chunk';
const LAST_USED = 'last-used';

/** What a chunk's `.json` (written after its `.bin`, so its presence commits the chunk) says. */
interface ChunkMeta {
  format: typeof CHUNK_FORMAT;
  formatVersion: 1;
  /** The entry key in full (the directory name is its hash). */
  key: string;
  /** The key of the frozen outputs the rows make (`FrozenOutput.key`: the split point and input shape). */
  outputKey: string;
  specs: RowSpec[];
  dtype: CacheDtype;
  /** Sample identities, one per row of the `.bin`, in row order. */
  identities: string[];
}

/** Where a stored row is: its chunk's `.bin`, the row number and the encoding. */
export interface StoredRow {
  readonly file: string;
  readonly row: number;
  readonly dtype: CacheDtype;
}

/** The default cache folder: `$VPEFT_CACHE_DIR`, else `$XDG_CACHE_HOME/vpeft/features`, else `~/.cache/vpeft/features`. */
export function defaultCacheDirectory(): string {
  if (process.env.VPEFT_CACHE_DIR) return process.env.VPEFT_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vpeft', 'features');
}

function bytesPerValue(dtype: CacheDtype): number {
  return dtype === 'float16' ? 2 : 4;
}

/**
 * A folder of cached frozen-part outputs. Each entry (one backbone checkpoint, split point and
 * pipeline: see `featureCacheKey`) is a directory of append-only chunks: `<id>.bin` holds rows
 * (one per image) and `<id>.json` their identities; a chunk is committed when its `.json` exists, so
 * concurrent writers (bench shards on one machine) never see each other's partial files, and runs
 * over overlapping splits (train800 and train800val200) share the rows they have in common.
 */
export class DiskCache {
  constructor(readonly root: string, readonly limitBytes: number) {}

  private entryDir(key: string): string {
    return join(this.root, createHash('sha256').update(key).digest('hex').slice(0, 32));
  }

  /**
   * Every committed row of entry `key`, by sample identity (the newest chunk wins), and their specs
   * (those of the newest chunk; chunks with other specs are ignored).
   */
  async rows(key: string): Promise<{ specs: RowSpec[]; outputKey: string; rows: Map<string, StoredRow> } | undefined> {
    const dir = this.entryDir(key);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort().reverse();
    let specs: RowSpec[] | undefined;
    let outputKey = '';
    const rows = new Map<string, StoredRow>();
    for (const name of names) {
      const meta = await readChunkMeta(join(dir, name));
      // A chunk whose metadata is unreadable or damaged (a torn write, a disk error) is a miss: its rows are computed again.
      if (!meta || meta.format !== CHUNK_FORMAT || meta.key !== key || !Array.isArray(meta.identities) || !Array.isArray(meta.specs)) continue;
      if (!specs) {
        specs = meta.specs;
        outputKey = meta.outputKey;
      }
      if (JSON.stringify(meta.specs) !== JSON.stringify(specs) || meta.outputKey !== outputKey) continue;
      const file = join(dir, name.replace(/\.json$/, '.bin'));
      const size = (await stat(file).catch(() => undefined))?.size;
      if (size !== meta.identities.length * rowWidth(specs) * bytesPerValue(meta.dtype)) continue;
      meta.identities.forEach((identity, row) => {
        if (!rows.has(identity)) rows.set(identity, { file, row, dtype: meta.dtype });
      });
    }
    if (!specs) return undefined;
    await this.touch(dir);
    return { specs, outputKey, rows };
  }

  /**
   * Stores rows (`values`: `identities.length × rowWidth(specs)` float32) as a new chunk of entry
   * `key`, first evicting the least recently used other entries so the folder stays within the limit.
   * Returns false (storing nothing) when the chunk alone exceeds the limit.
   */
  async write(key: string, outputKey: string, specs: readonly RowSpec[], identities: readonly string[], values: Float32Array, dtype: CacheDtype): Promise<boolean> {
    const bytes = dtype === 'float16' ? new Uint8Array(encodeFloat16(values).buffer) : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    if (bytes.byteLength > this.limitBytes) return false;
    const dir = this.entryDir(key);
    await this.evict(bytes.byteLength, dir);
    await mkdir(dir, { recursive: true });
    const id = `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFileAtomic(join(dir, `${id}.bin`), bytes);
    const meta: ChunkMeta = { format: CHUNK_FORMAT, formatVersion: 1, key, outputKey, specs: [...specs], dtype, identities: [...identities] };
    await writeFileAtomic(join(dir, `${id}.json`), JSON.stringify(meta));
    await this.touch(dir);
    return true;
  }

  /** Bytes under the cache folder. */
  async size(): Promise<number> {
    let total = 0;
    for (const entry of await this.entries()) total += entry.bytes;
    return total;
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    for (const entry of await this.entries()) await rm(entry.dir, { recursive: true, force: true });
  }

  private async entries(): Promise<Array<{ dir: string; bytes: number; used: number }>> {
    const out: Array<{ dir: string; bytes: number; used: number }> = [];
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      const dir = join(this.root, name);
      if (!(await stat(dir).catch(() => undefined))?.isDirectory()) continue;
      let bytes = 0;
      for (const file of await readdir(dir).catch(() => [] as string[])) bytes += (await stat(join(dir, file)).catch(() => undefined))?.size ?? 0;
      const used = (await stat(join(dir, LAST_USED)).catch(() => undefined))?.mtimeMs ?? 0;
      out.push({ dir, bytes, used });
    }
    return out;
  }

  private async evict(incoming: number, keep: string): Promise<void> {
    const entries = (await this.entries()).sort((a, b) => a.used - b.used);
    let total = entries.reduce((n, e) => n + e.bytes, 0) + incoming;
    for (const entry of entries) {
      if (total <= this.limitBytes) break;
      if (entry.dir === keep) continue;
      await rm(entry.dir, { recursive: true, force: true });
      total -= entry.bytes;
    }
  }

  private async touch(dir: string): Promise<void> {
    const file = join(dir, LAST_USED);
    const now = new Date();
    await utimes(file, now, now).catch(() => writeFile(file, '').catch(() => undefined));
  }
}

/** Rows served from chunk files, read one sample at a time (for caches larger than the memory budget). */
export class FileRows implements RowSource {
  readonly memoryBytes = 0;
  private readonly handles = new Map<string, number>();
  private readonly buffer: Uint8Array;
  private readonly width: number;

  constructor(readonly specs: readonly RowSpec[], private readonly stored: ReadonlyArray<StoredRow | undefined>) {
    this.width = rowWidth(specs);
    this.buffer = new Uint8Array(this.width * 4);
  }

  has(i: number): boolean {
    return this.stored[i] !== undefined;
  }

  read(i: number, out: Float32Array): void {
    const at = this.stored[i]!;
    let fd = this.handles.get(at.file);
    if (fd === undefined) {
      fd = openSync(at.file, 'r');
      this.handles.set(at.file, fd);
    }
    const bytes = this.width * bytesPerValue(at.dtype);
    readSync(fd, this.buffer, 0, bytes, at.row * bytes);
    out.set(at.dtype === 'float16' ? decodeFloat16(this.buffer, 0, this.width) : new Float32Array(this.buffer.buffer, 0, this.width));
  }

  /** Closes the open chunk files. */
  close(): void {
    for (const fd of this.handles.values()) closeSync(fd);
    this.handles.clear();
  }
}

/** Reads stored rows into `write(i, row)` (for a cache that fits in memory), one chunk file at a time. */
export async function readStoredRows(specs: readonly RowSpec[], stored: ReadonlyArray<StoredRow | undefined>, write: (i: number, row: Float32Array) => void): Promise<void> {
  const width = rowWidth(specs);
  const byFile = new Map<string, Array<{ i: number; at: StoredRow }>>();
  stored.forEach((at, i) => {
    if (!at) return;
    const rows = byFile.get(at.file);
    if (rows) rows.push({ i, at });
    else byFile.set(at.file, [{ i, at }]);
  });
  for (const [file, rows] of byFile) {
    const bytes = await readFile(file);
    for (const { i, at } of rows) {
      const size = width * bytesPerValue(at.dtype);
      const offset = bytes.byteOffset + at.row * size;
      write(i, at.dtype === 'float16' ? decodeFloat16(bytes, at.row * size, width) : new Float32Array(bytes.buffer.slice(offset, offset + size)));
    }
  }
}

/** A chunk's metadata, or undefined when the file cannot be read or is not valid JSON. */
async function readChunkMeta(file: string): Promise<ChunkMeta | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ChunkMeta;
  } catch {
    return undefined;
  }
}
