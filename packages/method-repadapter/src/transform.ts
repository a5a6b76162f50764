import * as tf from '@tensorflow/tfjs-core';
import { dropout, type Transform } from '@vpeft/core';

/**
 * RepAdapter's variables at one site (tfjs layouts): down `A` `[D, h]` + bias `[h]` (the reference's
 * `conv_A`, a 1x1 conv), grouped up `B` `[g, h/g, D/g]` + bias `[D]` (`conv_B`, groups g).
 */
export interface RepAdapterState {
  readonly down: tf.Variable;
  readonly downBias: tf.Variable;
  readonly up: tf.Variable;
  readonly upBias: tf.Variable;
  readonly scale: number;
  readonly dropout: number;
}

/** The grouped up projection of `h` `[rows, hidden]`: group i maps hidden channels of group i to output channels of group i. */
export function groupedUp(h: tf.Tensor2D, up: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [groups, hg, dg] = up.shape as [number, number, number];
    const rows = h.shape[0];
    if (groups === 1) return tf.matMul(h, tf.reshape(up, [hg, dg]));
    const perGroup = tf.transpose(tf.reshape(h, [rows, groups, hg]), [1, 0, 2]) as tf.Tensor3D;
    const out = tf.matMul(perGroup, up as tf.Tensor3D);
    return tf.reshape(tf.transpose(out, [1, 0, 2]), [rows, groups * dg]) as tf.Tensor2D;
  });
}

/** `B` as a dense `[hidden, D]` block-diagonal matrix (the reference's `sparse2dense`). */
export function denseUp(up: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [groups, hg, dg] = up.shape as [number, number, number];
    const blocks = Array.from({ length: groups }, (_, i) =>
      tf.pad(tf.reshape(tf.slice(up, [i, 0, 0], [1, hg, dg]), [hg, dg]), [[0, 0], [i * dg, (groups - 1 - i) * dg]]),
    );
    return tf.concat(blocks, 0) as tf.Tensor2D;
  });
}

/** The adapted input `x + s·(B(dropout(x·A + a)) + b)` (the reference's `RepAdapter.forward`). */
export function adaptInput(x: tf.Tensor2D, state: RepAdapterState, training: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const hidden = dropout(tf.add(tf.matMul(x, state.down as tf.Tensor2D), state.downBias) as tf.Tensor2D, state.dropout, training) as tf.Tensor2D;
    return tf.add(x, tf.mul(tf.add(groupedUp(hidden, state.up), state.upBias), state.scale)) as tf.Tensor2D;
  });
}

/** The transform: the adapter in front of the linear op, `next(x + s·adapter(x))`. */
export function repAdapterTransform(state: RepAdapterState): Transform<'linear'> {
  return (x, next, ctx) => {
    const adapted = adaptInput(x, state, ctx.training);
    const out = next(adapted);
    if (out !== adapted) adapted.dispose();
    return out;
  };
}
