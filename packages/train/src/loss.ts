import * as tf from '@tensorflow/tfjs-core';

/**
 * Summed softmax cross-entropy with label smoothing: `Σ_i −Σ_k q_ik · log softmax(z_i)_k` with
 * targets `q = (1 − ε)·onehot(y) + ε / K` (timm's `LabelSmoothingCrossEntropy`, PyTorch's
 * `cross_entropy(label_smoothing=ε)`). Divide by the batch size for the mean; summing lets
 * micro-batches weight their share of a batch exactly. Call inside a tidy.
 *
 * @param logits - `[B, K]`.
 * @param labels - `[B]` int32 class ids.
 * @param smoothing - ε in [0, 1).
 */
export function smoothedCrossEntropySum(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  const numClasses = logits.shape[1];
  const logProbabilities = tf.logSoftmax(logits);
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
  const targets = smoothing > 0 ? tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / numClasses) : oneHot;
  return tf.neg(tf.sum(tf.mul(targets, logProbabilities))) as tf.Scalar;
}
