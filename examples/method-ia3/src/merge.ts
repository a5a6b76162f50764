import * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore, SiteInfo } from '@vpeft/core';
import { fullScale } from './transform';

/** Folds the rescaling into the site's weight `[in, out]` and bias (`direction` 1), or divides it back out (-1). */
export function foldScale(site: SiteInfo, columns: ReadonlyArray<readonly [number, number]>, scale: tf.Variable, backbone: ParameterStore, direction: 1 | -1): void {
  tf.tidy(() => {
    const l = fullScale(site, columns, scale);
    const factor = direction === 1 ? l : tf.div(1, l);
    const weight = backbone.variable(site.weight!);
    weight.assign(tf.mul(weight, factor));
    if (site.bias) {
      const bias = backbone.variable(site.bias);
      bias.assign(tf.mul(bias, factor));
    }
  });
}
