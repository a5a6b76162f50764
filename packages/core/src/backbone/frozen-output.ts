import * as tf from '@tensorflow/tfjs-core';

/**
 * Where a backbone splits a training pass: the leading part no gradient reaches (no trainable
 * parameter, no active site) and that computes the same values every time for the same images.
 * Its output can be computed once per image and the rest trained from it (a feature cache).
 */
export interface FrozenPartInfo {
  /**
   * Identifies the split for this backbone architecture: outputs with the same key (and the same
   * backbone weights) are interchangeable. e.g. `vit:stages=5`.
   */
  readonly key: string;
  /** For people: e.g. `the patch embedding and blocks 0-3`. */
  readonly description: string;
}

/** Why a backbone cannot split off a frozen part for the current methods (e.g. `LoRA acts in block 0`). */
export interface NoFrozenPart {
  readonly reason: string;
}

/**
 * The output of a backbone's frozen part for a batch: batch-first tensors by name (a token
 * sequence, a CNN's frontier activations, recorded taps). A backbone's `forward` accepts it in place
 * of images and runs the rest of the pass.
 */
export interface FrozenOutput {
  readonly kind: 'frozen-output';
  /** The {@link FrozenPartInfo.key} of the split it was computed at. */
  readonly key: string;
  readonly tensors: Readonly<Record<string, tf.Tensor>>;
}

/** What a backbone (and a `PeftModel`) runs forward: NHWC images, or a frozen part's output. */
export type BackboneInput = tf.Tensor4D | FrozenOutput;

/** True when `input` is a {@link FrozenOutput}. */
export function isFrozenOutput(input: unknown): input is FrozenOutput {
  return typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === 'frozen-output';
}

/** Images (or samples) in a batch of input. */
export function inputBatchSize(input: BackboneInput): number {
  if (!isFrozenOutput(input)) return input.shape[0];
  const first = Object.values(input.tensors)[0];
  return first ? first.shape[0]! : 0;
}

/** Rows `[start, start + count)` of a batch of input (new tensors; the input is left as is). */
export function sliceInput(input: BackboneInput, start: number, count: number): BackboneInput {
  if (!isFrozenOutput(input)) return tf.slice(input, [start, 0, 0, 0], [count, -1, -1, -1]);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(input.tensors)) tensors[name] = tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [count, ...t.shape.slice(1).map(() => -1)]);
  return { kind: 'frozen-output', key: input.key, tensors };
}

/** The tensors `input` holds (to dispose or keep them). */
export function inputTensors(input: BackboneInput): tf.Tensor[] {
  return isFrozenOutput(input) ? Object.values(input.tensors) : [input];
}
