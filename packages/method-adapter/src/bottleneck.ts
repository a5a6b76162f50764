import * as tf from '@tensorflow/tfjs-core';
import { init, linear, type CreateContext, type Initializer, type SiteInfo } from '@vpeft/core';

/** The down- and up-projections of a bottleneck module: `D → m → D`, stored `[in, out]`. */
export interface Bottleneck {
  downWeight: tf.Variable;
  downBias: tf.Variable;
  upWeight: tf.Variable;
  upBias: tf.Variable;
}

/** Creates a bottleneck's variables; `up` starts at zero so the module's output is zero at step 0. */
export function createBottleneck(site: SiteInfo, ctx: CreateContext, bottleneck: number, downInit: Initializer): Bottleneck {
  const d = site.dim!;
  return {
    downWeight: ctx.parameter('down.weight', [d, bottleneck], downInit, 'weight'),
    downBias: ctx.parameter('down.bias', [bottleneck], init.zeros(), 'bias'),
    upWeight: ctx.parameter('up.weight', [bottleneck, d], init.zeros(), 'weight'),
    upBias: ctx.parameter('up.bias', [d], init.zeros(), 'bias'),
  };
}

/** Applies a linear map over the last axis of `[B, N, in]` (as one 2-D matmul). */
export function tokenLinear(x: tf.Tensor3D, weight: tf.Variable, bias: tf.Variable): tf.Tensor3D {
  const [b, n, d] = x.shape;
  const y = linear(tf.reshape(x, [b * n, d]), weight as tf.Tensor2D, bias as tf.Tensor1D);
  return tf.reshape(y, [b, n, weight.shape[1]!]);
}
