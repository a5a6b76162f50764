import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, dropout, init, OptionError, type MethodInstance, type SiteModule, MethodNotApplicableError } from '@vpeft/core';
import { ADAPTER_PACKAGE } from './adapter';
import { createBottleneck, tokenLinear } from './bottleneck';
import { ADAPTFORMER_DEFAULTS, validateAdaptFormerOptions, type AdaptFormerOptions } from './options';

/**
 * AdaptFormer (Chen et al., NeurIPS 2022): a bottleneck parallel to each block's MLP on the residual
 * stream, `x + mlp(norm2(x)) + s·up(dropout(relu(down(x))))`. Down kaiming-uniform, up and biases zero,
 * so the output is unchanged at step 0.
 */
export const adaptFormerMethod = defineMethod<AdaptFormerOptions>({
  name: 'adaptformer',
  version: '0.1.0',
  packageName: ADAPTER_PACKAGE,
  category: 'addition',
  description: 'parallel bottleneck beside the MLP (AdaptFormer)',
  defaults: ADAPTFORMER_DEFAULTS,
  validate: validateAdaptFormerOptions,
  targets: (sites, options) => {
    const found = sites.filter((s) => s.kind === 'branch' && s.branch === 'mlp');
    if (found.length === 0) throw new MethodNotApplicableError('adaptformer', 'this backbone', "AdaptFormer runs beside a transformer block's mlp branch, and it has no mlp branch sites (on a CNN use conv-adapter)");
    return found;
  },
  create: (site, options, ctx) => {
    const p = createBottleneck(site, ctx, options.bottleneck, init.kaimingUniform(Math.sqrt(5)));
    return {
      transform: (x, next, tctx) => {
        const hidden = dropout(tf.relu(tokenLinear(x, p.downWeight, p.downBias)) as tf.Tensor3D, options.dropout, tctx.training);
        const parallel = tokenLinear(hidden, p.upWeight, p.upBias);
        return tf.add(next(x), tf.mul(parallel, options.scale)) as tf.Tensor3D;
      },
    } satisfies SiteModule<'branch'>;
  },
  zeroInit: () => true,
});

/** A configured AdaptFormer: `adaptformer({ bottleneck: 64, scale: 0.1 })`. */
export function adaptformer(options?: Partial<AdaptFormerOptions>, instance?: { name?: string }): MethodInstance<AdaptFormerOptions> {
  return adaptFormerMethod.configure(options, instance);
}
