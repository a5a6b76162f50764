/**
 * @vpeft/backend-wasm — vpeft's Node training backend. Importing it registers, the way tfjs backends
 * and kernels register (`registerKernel` / `registerGradient`, into tfjs's global registries):
 * - every tfjs gradient (tfjs-core alone has none) and vpeft's lean gradients over three of them
 *   (`FusedBatchNorm`, `ClipByValue`), used on every backend;
 * - the TensorFlow.js wasm backend (`@tensorflow/tfjs-backend-wasm`) with vpeft's fast kernels over
 *   the stock ones and the gradient kernels it lacks.
 *
 * `@vpeft/core`'s `initBackend()` imports it when it is installed; nothing else is needed. Import it
 * yourself only to use the wasm backend without `initBackend()`, or to compare with the stock kernels
 * ({@link unregisterFastWasmKernels}).
 */
import './register';

export { registerFastWasmKernels, unregisterFastWasmKernels, fastWasmKernelsRegistered } from './kernels/index';
export { LEAN_GRADIENTS, registerLeanGradients } from './gradients/index';
export { CLIP_GRAD } from './kernels/clip-grad';
export { batchMatMulRoute, nativeProduct, NATIVE_THIN_MAX, planMatMul, type MatMulPlan, type MatMulRoute } from './kernels/batch-matmul';
export { fusedMatMulRoute } from './kernels/fused-matmul';
export { clearTransposedOperands, transposedOperandsHeld, TRANSPOSED_CACHE_MAX_ELEMENTS } from './kernels/transposed-operands';
export { FUSED } from './kernels/fused-names';
