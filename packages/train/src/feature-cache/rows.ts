import * as tf from '@tensorflow/tfjs-core';

/** One named tensor of a frozen part's output, per sample: its shape without the batch axis. */
export interface RowSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Values per sample of a spec. */
export function rowLength(spec: RowSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

/** Float32 values per sample over all specs. */
export function rowWidth(specs: readonly RowSpec[]): number {
  return specs.reduce((n, s) => n + rowLength(s), 0);
}

/** The specs of a batch of named tensors (batch axis first). */
export function specsOf(tensors: Readonly<Record<string, tf.Tensor>>): RowSpec[] {
  return Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape.slice(1) }));
}

/**
 * Where the rows of one split live: in memory (one float32 array of `size × rowWidth`) or in files
 * read batch by batch. `read` fills `out` (length `rowWidth`) with the concatenated specs of sample `i`.
 */
export interface RowSource {
  readonly specs: readonly RowSpec[];
  /** Samples that have a row (a sample skipped as undecodable has none). */
  has(i: number): boolean;
  read(i: number, out: Float32Array): void;
  /** Bytes held in memory. */
  readonly memoryBytes: number;
}

/** Rows held in one float32 array (outside the wasm heap). */
export class MemoryRows implements RowSource {
  readonly width: number;
  private readonly data: Float32Array;
  private readonly present: Uint8Array;

  constructor(readonly specs: readonly RowSpec[], readonly size: number) {
    this.width = rowWidth(specs);
    this.data = new Float32Array(size * this.width);
    this.present = new Uint8Array(size);
  }

  get memoryBytes(): number {
    return this.data.byteLength;
  }

  has(i: number): boolean {
    return this.present[i] === 1;
  }

  /** Sets sample `i`'s row. */
  write(i: number, row: Float32Array): void {
    this.data.set(row, i * this.width);
    this.present[i] = 1;
  }

  read(i: number, out: Float32Array): void {
    out.set(this.data.subarray(i * this.width, (i + 1) * this.width));
  }
}

/** The named tensors of samples `indices` (batch axis first), built from `rows`. */
export function gatherRows(rows: RowSource, indices: ArrayLike<number>): Record<string, tf.Tensor> {
  const width = rowWidth(rows.specs);
  const n = indices.length;
  const row = new Float32Array(width);
  const columns = rows.specs.map((s) => new Float32Array(n * rowLength(s)));
  for (let k = 0; k < n; k++) {
    rows.read(indices[k]!, row);
    let offset = 0;
    rows.specs.forEach((spec, j) => {
      const length = rowLength(spec);
      columns[j]!.set(row.subarray(offset, offset + length), k * length);
      offset += length;
    });
  }
  const out: Record<string, tf.Tensor> = {};
  rows.specs.forEach((spec, j) => {
    out[spec.name] = tf.tensor(columns[j]!, [n, ...spec.shape], 'float32');
  });
  return out;
}

/** Sample `k` of a batch of named tensors' values (already read to the CPU), concatenated in spec order. */
export function rowOf(values: ReadonlyArray<Float32Array>, specs: readonly RowSpec[], k: number, out: Float32Array): void {
  let offset = 0;
  specs.forEach((spec, j) => {
    const length = rowLength(spec);
    out.set(values[j]!.subarray(k * length, (k + 1) * length), offset);
    offset += length;
  });
}
