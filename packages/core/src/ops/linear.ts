import * as tf from '@tensorflow/tfjs-core';

/** tfjs's kernel name for a matrix product with a fused bias (and activation). */
const FUSED_MATMUL = '_FusedMatMul';

/**
 * The gradient of a `_FusedMatMul` kernel run directly on the tape (as {@link linear} does), for
 * untransposed operands and a linear activation. Unlike `tf.fused.matMul`, whose custom gradient
 * computes every operand's gradient eagerly, each gradient here is a function the tape calls only for
 * an operand that leads to a variable being differentiated: a frozen weight's `Xᵀ·dY` (as much work as
 * the forward product) and its bias's sum are never computed.
 */
export const linearGradConfig: tf.GradConfig = {
  kernelName: FUSED_MATMUL,
  inputsToSave: ['a', 'b', 'bias'],
  gradFunc: (dy, saved, attrs) => {
    const { transposeA = false, transposeB = false, activation = 'linear' } = attrs as Partial<tf._FusedMatMulAttrs>;
    if (transposeA || transposeB || activation !== 'linear') {
      throw new Error(
        `vpeft linear gradient: _FusedMatMul recorded with transposeA=${transposeA}, transposeB=${transposeB}, ` +
          `activation=${activation}; only untransposed operands with a linear activation are supported (use tf.fused.matMul)`,
      );
    }
    const [a, b, bias] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const g = dy as tf.Tensor;
    const grads: Record<string, () => tf.Tensor> = {
      a: () => tf.matMul(g, b, false, true),
      b: () => tf.matMul(a, g, true, false),
    };
    if (bias !== undefined) {
      grads.bias = () => {
        const axes = tf.broadcast_util.getReductionAxes(bias.shape, g.shape);
        return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, bias.shape);
      };
    }
    return grads;
  },
};

let gradientRegistered = false;

/**
 * `x·W + b` for `x` `[rows, in]` and `W` stored `[in, out]` (the tfjs layout of a PyTorch `[out, in]`
 * weight), as one fused product (the `_FusedMatMul` kernel): the wasm backend adds the bias inside the
 * XNNPACK product instead of a separate broadcasting Add over the whole output. The kernel runs on
 * the tape with {@link linearGradConfig}, so a frozen weight's gradient is not computed.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (!bias) return tf.matMul(x, weight) as tf.Tensor2D;
  if (!gradientRegistered) {
    tf.registerGradient(linearGradConfig);
    gradientRegistered = true;
  }
  const [rows, inFeatures] = x.shape;
  const outFeatures = weight.shape[1];
  return tf.tidy(() => {
    // Rank 3, as tf.fused.matMul hands the kernel (some backends' kernels read the batch from dim 0).
    const y = tf.engine().runKernel(
      FUSED_MATMUL,
      { a: tf.reshape(x, [1, rows, inFeatures]), b: tf.reshape(weight, [1, inFeatures, outFeatures]), bias },
      { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 },
    ) as tf.Tensor3D;
    return tf.reshape(y, [rows, outFeatures]) as tf.Tensor2D;
  });
}
