import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, init, matchSites, OptionError, type MethodInstance, type SiteModule } from '@vpeft/core';
import { ADAPTER_PACKAGE } from './adapter';

/** Options of `conv-adapter`: a parallel bottleneck around named conv layers of a CNN backbone. */
export interface ConvAdapterOptions {
  /** Globs over conv site names (layer names of the CNN), e.g. `['block_16_project']`. */
  targets: string[];
  bottleneck: number;
  /** Scale s of the parallel branch. */
  scale: number;
}

/** Defaults: beside the kxk (spatial and depthwise) convs of the last stage, by role; bottleneck 8, scale 0.1. */
export const CONV_ADAPTER_DEFAULTS: ConvAdapterOptions = { targets: ['@conv.spatial:last-stage', '@conv.depthwise:last-stage'], bottleneck: 8, scale: 0.1 };

/**
 * A parallel convolutional bottleneck around a named conv layer (AdaptFormer's idea on a CNN):
 * `conv(x) + s·up(relu(down(x)))`, `down` a kxk conv with the layer's kernel size, strides and padding
 * (so the branch output lines up), `up` a 1x1 conv, zero-initialised — the output is unchanged at step 0.
 */
export const convAdapterMethod = defineMethod<ConvAdapterOptions>({
  name: 'conv-adapter',
  version: '0.1.0',
  packageName: ADAPTER_PACKAGE,
  category: 'addition',
  description: 'parallel conv bottleneck around named conv layers of a CNN backbone',
  defaults: CONV_ADAPTER_DEFAULTS,
  validate: (o) => {
    if (!Array.isArray(o.targets) || o.targets.length === 0) throw new OptionError('targets', o.targets, 'a non-empty list of conv layer globs, e.g. ["block_16_project"]', 'conv-adapter');
    if (!Number.isInteger(o.bottleneck) || o.bottleneck < 1) throw new OptionError('bottleneck', o.bottleneck, 'a positive integer', 'conv-adapter');
    if (!Number.isFinite(o.scale)) throw new OptionError('scale', o.scale, 'a finite number', 'conv-adapter');
  },
  targets: (sites, o) => matchSites(sites, o.targets, { kinds: ['conv'], option: 'targets', method: 'conv-adapter' }),
  create: (site, o, ctx): SiteModule<'conv'> => {
    const [kh, kw] = site.kernelSize!;
    const m = o.bottleneck;
    const down = ctx.parameter('down.kernel', [kh, kw, site.inFeatures!, m], init.kaimingUniform(Math.sqrt(5)), 'weight');
    const downBias = ctx.parameter('down.bias', [m], init.zeros(), 'bias');
    const up = ctx.parameter('up.kernel', [1, 1, m, site.outFeatures!], init.zeros(), 'weight');
    const upBias = ctx.parameter('up.bias', [site.outFeatures!], init.zeros(), 'bias');
    const strides = (site.strides ?? [1, 1]) as [number, number];
    const padding = site.padding ?? 'same';
    return {
      transform: (x, next) => {
        const hidden = tf.relu(tf.add(tf.conv2d(x, down as tf.Tensor4D, strides, padding), downBias)) as tf.Tensor4D;
        const branch = tf.add(tf.conv2d(hidden, up as tf.Tensor4D, 1, 'valid'), upBias);
        return tf.add(next(x), tf.mul(branch, o.scale)) as tf.Tensor4D;
      },
    };
  },
  zeroInit: () => true,
});

/** A configured conv adapter: `convAdapter({ targets: ['block_16_project'] })`. */
export function convAdapter(options?: Partial<ConvAdapterOptions>, instance?: { name?: string }): MethodInstance<ConvAdapterOptions> {
  return convAdapterMethod.configure(options, instance);
}
