import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, dropout, init, OptionError, quickGelu, type MethodInstance, type SiteModule, type TokenLayout, MethodNotApplicableError } from '@vpeft/core';
import { ADAPTER_PACKAGE } from './adapter';
import { createBottleneck, tokenLinear } from './bottleneck';
import { CONVPASS_DEFAULTS, validateConvpassOptions, type ConvpassOptions } from './options';

/**
 * Runs the 3x3 conv over the tokens: the patch tokens as an `h x w` map (found from the layout, after
 * any CLS/prompt prefix), every other token as a 1x1 map — where padding leaves only the centre tap.
 */
export function convOverTokens(x: tf.Tensor3D, layout: TokenLayout, kernel: tf.Variable, bias: tf.Variable): tf.Tensor3D {
  const [b, n, m] = x.shape;
  const [gh, gw] = layout.grid;
  const start = layout.prefix;
  const count = gh * gw;
  if (start + count + layout.suffix !== n) {
    throw new OptionError('layout', `${n} tokens`, `prefix ${layout.prefix} + grid ${gh}x${gw} + suffix ${layout.suffix}`, 'convpass');
  }
  const patches = tf.reshape(tf.slice(x, [0, start, 0], [b, count, m]), [b, gh, gw, m]) as tf.Tensor4D;
  const convolved = tf.reshape(tf.add(tf.conv2d(patches, kernel as tf.Tensor4D, 1, 'same'), bias), [b, count, m]);
  // 1x1 maps: out = token · W[1, 1] + b.
  const centre = tf.reshape(tf.slice(kernel, [1, 1, 0, 0], [1, 1, m, m]), [m, m]);
  const others = (from: number, length: number) =>
    tf.reshape(tf.add(tf.matMul(tf.reshape(tf.slice(x, [0, from, 0], [b, length, m]), [b * length, m]), centre), bias), [b, length, m]);
  const parts: tf.Tensor[] = [];
  if (start > 0) parts.push(others(0, start));
  parts.push(convolved);
  if (layout.suffix > 0) parts.push(others(start + count, layout.suffix));
  return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor3D;
}

/**
 * Convpass (Jie & Deng, 2022): a convolutional bypass beside each attn and MLP branch,
 * `s·up(dropout(qgelu(conv3x3(qgelu(down(norm(x)))))))` with the branch's own pre-norm; down xavier,
 * conv identity-centred, up zeros — so the output is unchanged at step 0.
 */
export const convpassMethod = defineMethod<ConvpassOptions>({
  name: 'convpass',
  version: '0.1.0',
  packageName: ADAPTER_PACKAGE,
  category: 'addition',
  description: 'convolutional bypass beside attn and MLP over the patch grid (Convpass)',
  defaults: CONVPASS_DEFAULTS,
  validate: validateConvpassOptions,
  targets: (sites, options) => {
    const found = sites.filter((s) => s.kind === 'branch' && options.branches.includes(s.branch!));
    if (found.length === 0) throw new MethodNotApplicableError('convpass', 'this backbone', `Convpass runs beside a transformer block's ${options.branches.join('/')} branch, and it has no such branch sites (on a CNN use conv-adapter)`);
    return found;
  },
  create: (site, options, ctx) => {
    const m = options.bottleneck;
    const p = createBottleneck(site, ctx, m, init.xavierUniform());
    const identityCentre = () => {
      const values = new Float32Array(9 * m * m);
      for (let c = 0; c < m; c++) values[4 * m * m + c * m + c] = 1;
      return tf.tensor4d(values, [3, 3, m, m]);
    };
    const kernel = ctx.parameter('conv.weight', [3, 3, m, m], options.convInit === 'identity' ? identityCentre() : init.xavierUniform(), 'weight');
    const convBias = ctx.parameter('conv.bias', [m], init.zeros(), 'bias');
    return {
      transform: (x, next, tctx) => {
        if (!tctx.layout || !tctx.normalize) throw new OptionError('branches', options.branches, 'branch sites that provide the token layout and pre-norm (a ViT)', 'convpass');
        const down = quickGelu(tokenLinear(tctx.normalize(x), p.downWeight, p.downBias)) as tf.Tensor3D;
        const mixed = quickGelu(convOverTokens(down, tctx.layout, kernel, convBias)) as tf.Tensor3D;
        const up = tokenLinear(dropout(mixed, options.dropout, tctx.training), p.upWeight, p.upBias);
        return tf.add(next(x), tf.mul(up, options.scale)) as tf.Tensor3D;
      },
    } satisfies SiteModule<'branch'>;
  },
  zeroInit: () => true,
});

/** A configured Convpass: `convpass({ bottleneck: 8, scale: 1 })`. */
export function convpass(options?: Partial<ConvpassOptions>, instance?: { name?: string }): MethodInstance<ConvpassOptions> {
  return convpassMethod.configure(options, instance);
}
