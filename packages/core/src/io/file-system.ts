import { VpeftError } from '../errors/errors';

/**
 * The file access core's path-taking functions use (`saveAdapter(dir)`, `readSafetensors(path)`,
 * `loadViT({ weights: path })`, ...). Core's Node entry installs Node's file system on import; the
 * browser entry installs none, so a browser bundle holds no `node:` module. In a browser, pass bytes
 * instead (`adapterToFiles`, `peftModelFromFiles`, `loadViT({ weights: bytes })`), or install a store
 * of your own with {@link setFileSystem}.
 */
export interface FileSystem {
  /** The file's bytes; a missing file rejects with an error whose `code` is `ENOENT`. */
  readFile(path: string): Promise<Uint8Array>;
  /** Up to `length` bytes of the file from byte `start` (fewer at its end). */
  readRange(path: string, start: number, length: number): Promise<Uint8Array>;
  /** Whether something exists at `path`. */
  exists(path: string): Promise<boolean>;
  /** Writes the whole file so that readers see the old content or the new, never a partial write. */
  writeFileAtomic(path: string, data: Uint8Array | string): Promise<void>;
  /** Creates the directory and its parents; an existing one is fine. */
  mkdir(path: string): Promise<void>;
  /** Joins path segments the way the platform does. */
  join(...parts: string[]): string;
}

// On globalThis so that two installed copies of core (ESM and CJS builds) share one (as tfjs does).
const KEY = Symbol.for('@vpeft/core/file-system');
const scope = globalThis as unknown as Record<symbol, FileSystem | undefined>;

/** Installs the file access core uses (Node's is installed by core's Node entry); returns the previous one. */
export function setFileSystem(fileSystem: FileSystem | undefined): FileSystem | undefined {
  const previous = scope[KEY];
  scope[KEY] = fileSystem;
  return previous;
}

/**
 * The installed file access; throws naming `operation` and the in-memory alternative when there is
 * none (a browser bundle without a store).
 */
export function fileSystem(operation: string): FileSystem {
  const installed = scope[KEY];
  if (!installed) {
    throw new VpeftError(
      `${operation} needs file access, which this environment has none of (a browser bundle of @vpeft/core); pass bytes instead (adapterToFiles, peftModelFromFiles, loadViT({ weights: bytes })) or install a store with setFileSystem()`,
    );
  }
  return installed;
}
