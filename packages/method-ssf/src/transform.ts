import * as tf from '@tensorflow/tfjs-core';
import type { SiteInfo, Transform } from '@vpeft/core';

/** SSF's two vectors at one site, one value per output channel. */
export interface SsfSiteState {
  readonly site: SiteInfo;
  /** gamma `[channels]`. */
  readonly scale: tf.Variable;
  /** beta `[channels]`. */
  readonly shift: tf.Variable;
}

/** The number of channels SSF scales at a site: a linear/conv site's outputs, a norm site's dim. */
export function ssfChannels(site: SiteInfo): number | undefined {
  return site.kind === 'norm' ? site.dim : site.outFeatures;
}

/** `y·gamma + beta` over the last (channel) axis. */
export function scaleShift(y: tf.Tensor, state: SsfSiteState): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(y, state.scale), state.shift));
}

/**
 * The transform: `next(x)·gamma + beta`, per channel on the last axis (linear `[rows, out]`, conv
 * NHWC, norm `[B, N, D]` or NHWC), as `ssf_ada` in dongzelian/SSF.
 */
export function ssfTransform<K extends 'linear' | 'conv' | 'norm'>(state: SsfSiteState): Transform<K> {
  return ((x: tf.Tensor, next: (input: tf.Tensor) => tf.Tensor) => {
    const base = next(x);
    const out = scaleShift(base, state);
    if (base !== x) base.dispose();
    return out;
  }) as unknown as Transform<K>;
}

