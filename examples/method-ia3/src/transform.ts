import * as tf from '@tensorflow/tfjs-core';
import { OptionError, type SiteInfo, type Transform } from '@vpeft/core';

/**
 * The output columns a site rescales: every slice named in `slices` on fused sites (qkv), all columns
 * on unfused ones. A slice name the fused site does not have is an option error naming the ones it has.
 */
export function scaledColumns(site: SiteInfo, slices: readonly string[]): Array<readonly [number, number]> {
  if (!site.slices) return [[0, site.outFeatures!]];
  const available = Object.keys(site.slices);
  const unknown = slices.filter((name) => !available.includes(name));
  if (unknown.length > 0) throw new OptionError('slices', slices, `slice names of ${site.name}: ${available.join(', ')}`, 'ia3');
  return Object.entries(site.slices).filter(([name]) => slices.includes(name)).map(([, range]) => range);
}

/** The full-width scale vector: the learned values on scaled columns, ones elsewhere. */
export function fullScale(site: SiteInfo, columns: ReadonlyArray<readonly [number, number]>, scale: tf.Variable): tf.Tensor1D {
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    let at = 0;
    let used = 0;
    for (const [start, end] of [...columns].sort((a, b) => a[0] - b[0])) {
      if (start > at) parts.push(tf.ones([start - at]));
      parts.push(tf.slice(scale, [used], [end - start]));
      used += end - start;
      at = end;
    }
    if (at < site.outFeatures!) parts.push(tf.ones([site.outFeatures! - at]));
    return tf.concat(parts) as tf.Tensor1D;
  });
}

/** `y = l ⊙ next(x)`: learned per-channel rescaling of a linear site's output. */
export function ia3Transform(site: SiteInfo, columns: ReadonlyArray<readonly [number, number]>, scale: tf.Variable): Transform<'linear'> {
  return (x, next) => tf.mul(next(x), fullScale(site, columns, scale)) as tf.Tensor2D;
}
