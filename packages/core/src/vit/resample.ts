import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '../errors/errors';

/**
 * The 1-D resampling matrix `[outSize, inSize]` of PyTorch's bicubic `F.interpolate`
 * (align_corners=False). With `antialias` (timm's `resample_abs_pos_embed` default) it is the
 * separable anti-aliased filter (Keys cubic a = −0.5, support scaled when shrinking, weights
 * normalised); without it, the classic kernel (a = −0.75) with clamped edge indices.
 * `scale` is PyTorch's source/destination coordinate ratio: `inSize / outSize` when `F.interpolate`
 * is given a size, `1 / scale_factor` when given a scale factor (as DINOv2's position embedding).
 */
export function bicubicMatrix(inSize: number, outSize: number, antialias = true, scale = inSize / outSize): Float32Array {
  const m = new Float32Array(outSize * inSize);
  if (antialias) {
    const a = -0.5;
    const support = 2 * Math.max(scale, 1);
    const invScale = 1 / Math.max(scale, 1);
    for (let i = 0; i < outSize; i++) {
      const center = scale * (i + 0.5);
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
      let total = 0;
      const w: number[] = [];
      for (let j = xmin; j < xmax; j++) {
        const v = cubic((j - center + 0.5) * invScale, a);
        w.push(v);
        total += v;
      }
      for (let j = xmin; j < xmax; j++) m[i * inSize + j] = total !== 0 ? w[j - xmin]! / total : 0;
    }
    return m;
  }
  const a = -0.75;
  for (let i = 0; i < outSize; i++) {
    const src = scale * (i + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const weights = [cubic(t + 1, a), cubic(t, a), cubic(1 - t, a), cubic(2 - t, a)];
    for (let k = 0; k < 4; k++) {
      const j = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      m[i * inSize + j] += weights[k]!;
    }
  }
  return m;
}

function cubic(x: number, a: number): number {
  const ax = Math.abs(x);
  if (ax <= 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
  if (ax < 2) return ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a;
  return 0;
}

/**
 * Resamples a grid of embeddings `[gh, gw, D]` to `[oh, ow, D]` with separable bicubic matrices
 * (differentiable: two matmuls), as timm does for position embeddings at a new input size.
 */
export function resampleGrid(grid: tf.Tensor3D, outH: number, outW: number, antialias = true): tf.Tensor3D {
  const [gh, gw, d] = grid.shape;
  if (gh === outH && gw === outW) return grid;
  return tf.tidy(() => {
    const mh = tf.tensor2d(bicubicMatrix(gh, outH, antialias), [outH, gh]);
    const mw = tf.tensor2d(bicubicMatrix(gw, outW, antialias), [outW, gw]);
    // rows: [outH, gh] x [gh, gw*d]
    const rows = tf.reshape(tf.matMul(mh, tf.reshape(grid, [gh, gw * d])), [outH, gw, d]);
    // columns: move gw to the front, [outW, gw] x [gw, outH*d]
    const cols = tf.reshape(tf.matMul(mw, tf.reshape(tf.transpose(rows, [1, 0, 2]), [gw, outH * d])), [outW, outH, d]);
    return tf.transpose(cols, [1, 0, 2]) as tf.Tensor3D;
  });
}

/**
 * A position embedding `[1, prefix + g·g, D]` (its first `prefix` entries belong to CLS/register
 * tokens and are kept) resampled to a `gh x gw` grid as timm does; returned as is when the grid matches.
 */
export function resamplePositionEmbedding(pos: tf.Tensor3D, prefix: number, gh: number, gw: number, antialias = true): tf.Tensor3D {
  const n = pos.shape[1] - prefix;
  const g = Math.round(Math.sqrt(n));
  if (g * g !== n) throw new VpeftError(`pos_embed has ${n} patch positions (after ${prefix} prefix entries), not a square grid`);
  if (g === gh && g === gw) return pos;
  return tf.tidy(() => {
    const d = pos.shape[2];
    const grid = tf.reshape(tf.slice(pos, [0, prefix, 0], [1, n, d]), [g, g, d]) as tf.Tensor3D;
    const resampled = tf.reshape(resampleGrid(grid, gh, gw, antialias), [1, gh * gw, d]);
    return (prefix > 0 ? tf.concat([tf.slice(pos, [0, 0, 0], [1, prefix, d]), resampled], 1) : resampled) as tf.Tensor3D;
  });
}
