import * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore } from '@vpeft/core';
import type { SsfSiteState } from './transform';

/**
 * `weight·gamma` over the output channels, for any layout whose trailing axes enumerate the output
 * channels: linear `[in, out]`, conv `[kh, kw, in, out]`, depthwise `[kh, kw, in, multiplier]`
 * (channel `c·multiplier + m`), norm `[dim]`.
 */
function scaleChannels(weight: tf.Tensor, gamma: tf.Tensor, inverse: boolean): tf.Tensor {
  return tf.tidy(() => {
    const channels = gamma.shape[0]!;
    const flat = tf.reshape(weight, [weight.size / channels, channels]);
    return tf.reshape(inverse ? tf.div(flat, gamma) : tf.mul(flat, gamma), weight.shape);
  });
}

/**
 * Folds SSF into the preceding layer (`sign` 1): `W' = W·diag(gamma)` (PyTorch's `diag(gamma)·W`),
 * `b' = gamma⊙b + beta` — for a norm site, its affine weight and bias. `sign` -1 undoes it:
 * `W = W'/gamma`, `b = (b' − beta)/gamma`.
 */
export function foldSsf(state: SsfSiteState, backbone: ParameterStore, sign: 1 | -1): void {
  const { site, scale, shift } = state;
  const weight = backbone.variable(site.weight!);
  const bias = backbone.variable(site.bias!);
  const [newWeight, newBias] = tf.tidy(() =>
    sign === 1
      ? [scaleChannels(weight, scale, false), tf.add(tf.mul(bias, scale), shift)]
      : [scaleChannels(weight, scale, true), tf.div(tf.sub(bias, shift), scale)],
  );
  weight.assign(newWeight!);
  bias.assign(newBias!);
  tf.dispose([newWeight!, newBias!]);
}
