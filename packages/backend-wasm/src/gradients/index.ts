import * as tf from '@tensorflow/tfjs-core';
import { clipByValueGradConfig, clipGradGradConfig } from './clip-by-value';
import { fusedBatchNormGradConfig } from './fused-batch-norm';
import { softmaxGradConfig } from './softmax';

/** Gradients vpeft registers over tfjs's own (same values, less time and memory), on every backend. */
export const LEAN_GRADIENTS: readonly tf.GradConfig[] = [
  fusedBatchNormGradConfig,
  clipByValueGradConfig,
  clipGradGradConfig,
  softmaxGradConfig,
];

/**
 * Registers {@link LEAN_GRADIENTS} over tfjs's own (tfjs's gradient registry is global: the last
 * registration of a kernel's gradient wins). Idempotent; done on import of `@vpeft/backend-wasm`.
 */
export function registerLeanGradients(): void {
  for (const config of LEAN_GRADIENTS) tf.registerGradient(config);
}
