import * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore } from '@vpeft/core';
import { stackedDown, stackedUp, type LoraSiteState } from './transform';

/**
 * The update LoRA adds to the site's base weight, in the weight's layout: linear
 * `scale · A·B` `[in, out]`; conv `scale · (A reshaped [kh·kw·in, r]) · B` reshaped `[kh, kw, in, out]`
 * (a kxk conv followed by a 1x1 conv is the kxk conv with that kernel).
 */
export function loraWeightDelta(state: LoraSiteState): tf.Tensor {
  const { site } = state;
  return tf.tidy(() => {
    if (site.kind === 'conv') {
      const factor = state.factors[0]!;
      const [kh, kw, inC, r] = factor.down.shape as [number, number, number, number];
      const out = factor.up.shape[3]!;
      const kernel = tf.matMul(tf.reshape(factor.down, [kh * kw * inC, r]), tf.reshape(factor.up, [r, out]));
      return tf.mul(tf.reshape(kernel, [kh, kw, inC, out]), state.scale);
    }
    return tf.mul(tf.matMul(stackedDown(state.factors), stackedUp(state.factors, site.outFeatures!)), state.scale);
  });
}

/** Adds (`sign` 1, merge) or subtracts (`sign` -1, unmerge) the LoRA update to the site's base weight. */
export function foldLoraIntoWeight(state: LoraSiteState, backbone: ParameterStore, sign: 1 | -1): void {
  const weight = backbone.variable(state.site.weight!);
  const updated = tf.tidy(() => {
    const delta = loraWeightDelta(state);
    return sign === 1 ? tf.add(weight, delta) : tf.sub(weight, delta);
  });
  weight.assign(updated);
  updated.dispose();
}
