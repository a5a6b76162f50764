import * as tf from '@tensorflow/tfjs-core';
import { OptionError } from '@vpeft/core';

/**
 * Training targets `[B, K]` from class ids `[B]` with label smoothing ε: `(1 − ε)·onehot(y) + ε / K`
 * (timm's `LabelSmoothingCrossEntropy`, PyTorch's `cross_entropy(label_smoothing=ε)`); plain one-hot
 * for ε = 0. Targets `[B, K]` (one-hot or soft) pass through unchanged. Call inside a tidy.
 */
export function trainingTargets(labels: tf.Tensor, numClasses: number, smoothing = 0): tf.Tensor2D {
  if (labels.rank === 2 && labels.shape[1] === numClasses) return tf.cast(labels, 'float32') as tf.Tensor2D;
  if (labels.rank !== 1) {
    throw new OptionError('labels', `a tensor of shape [${labels.shape.join(', ')}]`, `class ids [B] or targets [B, ${numClasses}]`, 'trainingTargets');
  }
  const oneHot = tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, numClasses), 'float32') as tf.Tensor2D;
  return smoothing > 0 ? (tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / numClasses) as tf.Tensor2D) : oneHot;
}

/**
 * Summed softmax cross-entropy against targets: `Σ_i −Σ_k q_ik · log softmax(z_i)_k`. Divide by the
 * batch size for the mean; summing lets micro-batches weight their share of a batch exactly. Call
 * inside a tidy.
 *
 * @param logits - `[B, K]`.
 * @param targets - `[B, K]`, each row a distribution (see {@link trainingTargets}).
 */
export function crossEntropySum(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))) as tf.Scalar;
}

/**
 * Summed softmax cross-entropy with label smoothing: {@link crossEntropySum} against
 * {@link trainingTargets}`(labels, K, smoothing)`. Call inside a tidy.
 *
 * @param logits - `[B, K]`.
 * @param labels - `[B]` int32 class ids.
 * @param smoothing - ε in [0, 1).
 */
export function smoothedCrossEntropySum(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  return crossEntropySum(logits, trainingTargets(labels, logits.shape[1], smoothing));
}
