import { FileFormatError, ShapeMismatchError, type TensorData } from '@vpeft/core';

/**
 * The tensors of a foreign checkpoint, read by name: each {@link take} checks the key exists (else a
 * {@link FileFormatError} saying which layout was expected and which keys the file has) and, when an
 * expected shape is given, its shape (`-1` matches any size; else a {@link ShapeMismatchError}).
 * {@link assertAllUsed} then rejects keys the mapping did not consume, so nothing is silently dropped.
 */
export class CheckpointKeys {
  private readonly used = new Set<string>();

  constructor(
    readonly tensors: ReadonlyMap<string, TensorData>,
    readonly source: string,
    /** The layout being read, for messages (`Google .npz ViT`, `Hugging Face ViT`...). */
    readonly layout: string,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor `name`, checked against `shape` when given. */
  take(name: string, shape?: readonly number[]): TensorData {
    const t = this.tensors.get(name);
    if (!t) {
      const sample = [...this.tensors.keys()].slice(0, 4).join(', ');
      throw new FileFormatError(this.source, `tensor "${name}" is missing: not a checkpoint in the ${this.layout} layout (the file has ${this.tensors.size} tensors, e.g. ${sample || 'none'})`);
    }
    if (shape && (shape.length !== t.shape.length || shape.some((s, i) => s !== -1 && s !== t.shape[i]))) {
      throw new ShapeMismatchError(name, shape, t.shape, this.source);
    }
    this.used.add(name);
    return t;
  }

  /** Marks keys as consumed on purpose (dropped heads, buffers). */
  drop(names: Iterable<string>): void {
    for (const name of names) if (this.tensors.has(name)) this.used.add(name);
  }

  /** The largest `N` + 1 over keys matching `pattern` (whose first group is `N`); 0 when none match. */
  count(pattern: RegExp): number {
    let n = 0;
    for (const key of this.tensors.keys()) {
      const m = pattern.exec(key);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  }

  /** Throws when a key that is not ignored was not taken. */
  assertAllUsed(ignored?: RegExp): void {
    const left = [...this.tensors.keys()].filter((k) => !this.used.has(k) && !(ignored && ignored.test(k)));
    if (left.length) {
      throw new FileFormatError(this.source, `${left.length} tensor(s) not in the ${this.layout} layout: ${left.slice(0, 6).join(', ')}${left.length > 6 ? ', ...' : ''}`);
    }
  }
}
