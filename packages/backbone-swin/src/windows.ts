import * as tf from '@tensorflow/tfjs-core';

/**
 * `[B, H, W, C]` → windows `[B·(H/w)·(W/w), w·w, C]`, row-major over windows and within each (timm's
 * `window_partition`); rank ≤ 4 throughout.
 */
export function partitionWindows(x: tf.Tensor4D, w: number): tf.Tensor3D {
  const [b, h, wd, c] = x.shape;
  // [B·H/w, w, W/w, w·C] -> [B·H/w, W/w, w, w·C]
  const t = tf.transpose(tf.reshape(x, [b * (h / w), w, wd / w, w * c]), [0, 2, 1, 3]);
  return tf.reshape(t, [b * (h / w) * (wd / w), w * w, c]);
}

/** Inverse of {@link partitionWindows}: windows `[B·nW, w·w, C]` → `[B, H, W, C]`. */
export function mergeWindows(windows: tf.Tensor3D, w: number, b: number, h: number, wd: number): tf.Tensor4D {
  const c = windows.shape[2];
  const t = tf.transpose(tf.reshape(windows, [b * (h / w), wd / w, w, w * c]), [0, 2, 1, 3]);
  return tf.reshape(t, [b, h, wd, c]);
}

/** `torch.roll(x, shifts=(shift, shift), dims=(1, 2))` on `[B, H, W, C]` (negative shifts roll up/left). */
export function roll2d(x: tf.Tensor4D, shift: number): tf.Tensor4D {
  const rollAxis = (t: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D => {
    const n = t.shape[axis];
    const k = ((shift % n) + n) % n;
    if (k === 0) return t;
    const size = (len: number) => t.shape.map((s, i) => (i === axis ? len : s));
    const begin = (at: number) => t.shape.map((_, i) => (i === axis ? at : 0));
    const tail = tf.slice(t, begin(n - k), size(k));
    const head = tf.slice(t, begin(0), size(n - k));
    return tf.concat([tail, head], axis) as tf.Tensor4D;
  };
  return rollAxis(rollAxis(x, 1), 2);
}

/**
 * timm's `relative_position_index` for a `w x w` window: entry `[i, j]` indexes the bias table
 * `[(2w − 1)², heads]` by the offset of token `j` from token `i`, `(dy + w − 1)·(2w − 1) + (dx + w − 1)`.
 */
export function relativePositionIndex(w: number): Int32Array {
  const n = w * w;
  const index = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / w) - Math.floor(j / w);
      const dx = (i % w) - (j % w);
      index[i * n + j] = (dy + w - 1) * (2 * w - 1) + (dx + w - 1);
    }
  }
  return index;
}

/**
 * The shifted-window attention mask `[nW, w·w, w·w]` of a `res x res` grid (timm/torchvision): after the
 * cyclic shift, tokens from different regions of the image share a window; pairs from different regions
 * get −100, others 0. Windows in row-major order.
 */
export function shiftedWindowMask(res: number, w: number, shift: number): Float32Array {
  const region = new Int32Array(res * res);
  const band = (v: number) => (v < res - w ? 0 : v < res - shift ? 1 : 2);
  for (let y = 0; y < res; y++) for (let x = 0; x < res; x++) region[y * res + x] = band(y) * 3 + band(x);
  const perSide = res / w;
  const n = w * w;
  const mask = new Float32Array(perSide * perSide * n * n);
  for (let wy = 0; wy < perSide; wy++) {
    for (let wx = 0; wx < perSide; wx++) {
      const win = wy * perSide + wx;
      const ids = Array.from({ length: n }, (_, t) => region[(wy * w + Math.floor(t / w)) * res + wx * w + (t % w)]!);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask[(win * n + i) * n + j] = ids[i] === ids[j] ? 0 : -100;
    }
  }
  return mask;
}
