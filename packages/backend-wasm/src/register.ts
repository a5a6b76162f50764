// The side effects of importing @vpeft/backend-wasm, in order (ES modules evaluate their imports first).
// 1. tfjs-core alone registers no gradients; the union package's Node bundle registers all of them
//    (into tfjs's global gradient registry, shared by every copy of tfjs-core).
import '@tensorflow/tfjs';
// 2. The stock wasm backend and its kernels (the backend itself initialises on first use).
import '@tensorflow/tfjs-backend-wasm';
import { registerLeanGradients } from './gradients/index';
import { registerFastWasmKernels } from './kernels/index';

// 3. vpeft's lean gradients over tfjs's own, and the fast wasm kernels over the stock ones.
registerLeanGradients();
registerFastWasmKernels();
