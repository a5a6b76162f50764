import type * as tf from '@tensorflow/tfjs-core';
import { clipByValueGradConfig, clipGradGradConfig } from './clip-by-value';
import { fusedBatchNormGradConfig } from './fused-batch-norm';

/** Gradients vpeft registers over tfjs's own (same values, less time and memory), on every backend. */
export const LEAN_GRADIENTS: readonly tf.GradConfig[] = [fusedBatchNormGradConfig, clipByValueGradConfig, clipGradGradConfig];
