import type { TensorData } from '@vpeft/core';

/** The number of values of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major `data` of `shape` with its axes reordered: output axis `i` is input axis `axes[i]` (as `torch.permute`). */
export function permute(t: TensorData, axes: readonly number[]): TensorData {
  const rank = t.shape.length;
  if (axes.length !== rank || new Set(axes).size !== rank) throw new RangeError(`permute: axes [${axes.join(', ')}] for rank ${rank}`);
  const shape = axes.map((a) => t.shape[a]!);
  const inStrides = strides(t.shape);
  const stepOf = axes.map((a) => inStrides[a]!);
  const out = new Float32Array(t.data.length);
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = t.data[source]!;
    for (let k = rank - 1; k >= 0; k--) {
      index[k]!++;
      source += stepOf[k]!;
      if (index[k]! < shape[k]!) break;
      source -= stepOf[k]! * shape[k]!;
      index[k] = 0;
    }
  }
  return { shape, data: out };
}

/** A 2-D matrix transposed (`[a, b]` → `[b, a]`). */
export function transpose2d(t: TensorData): TensorData {
  return permute(t, [1, 0]);
}

/** The same values with another shape of the same size. */
export function reshape(t: TensorData, shape: readonly number[]): TensorData {
  if (numel(shape) !== t.data.length) throw new RangeError(`reshape: [${t.shape.join(', ')}] to [${shape.join(', ')}]`);
  return { shape: [...shape], data: t.data };
}

/** Row-major tensors concatenated along axis 0 (their other axes must agree). */
export function concat0(parts: readonly TensorData[]): TensorData {
  const rest = parts[0]!.shape.slice(1);
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { shape: [parts.reduce((n, p) => n + p.shape[0]!, 0), ...rest], data };
}

/** Rows `[start, start + count)` of axis 0. */
export function slice0(t: TensorData, start: number, count: number): TensorData {
  const row = numel(t.shape.slice(1));
  return { shape: [count, ...t.shape.slice(1)], data: t.data.slice(start * row, (start + count) * row) };
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = step;
    step *= shape[i]!;
  }
  return out;
}
