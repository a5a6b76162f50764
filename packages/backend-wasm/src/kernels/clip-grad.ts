import type * as tf from '@tensorflow/tfjs-core';
import { assertFloat32, f32, requireInputs, type WasmBackend } from './kernel-utils';

/** Name of the kernel computing the gradient of `ClipByValue` (`tf.clipByValue`, Keras' ReLU6) in one pass. */
export const CLIP_GRAD = 'VpeftClipByValueGrad';

/**
 * `dy` where `clipValueMin <= x <= clipValueMax`, else 0: one pass over the wasm heap instead of
 * tfjs's five kernels (two comparisons, a logical and, zeros, select) over the whole activation.
 */
export const clipByValueGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = requireInputs(CLIP_GRAD, inputs, 'dy', 'x');
  assertFloat32(CLIP_GRAD, dy, x);
  const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as tf.ClipByValueAttrs;
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput(dy.shape, 'float32');
  const o = f32(wasm, out);
  const d = f32(wasm, dy);
  const v = f32(wasm, x);
  for (let i = 0; i < o.length; i++) {
    const xi = v[i]!;
    o[i] = xi >= lo && xi <= hi ? d[i]! : 0;
  }
  return out;
};
