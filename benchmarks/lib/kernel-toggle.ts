import * as tf from '@tensorflow/tfjs-core';

/**
 * Unregisters the comma-separated wasm kernels `list` (after `initBackend`, which registers vpeft's),
 * for an A/B run of one kernel against the path the code takes without it (e.g.
 * `--unregister-kernels VpeftQkvAttention,VpeftQkvAttentionGrad`: attention composed again). Returns
 * the names; throws on a name wasm does not register.
 */
export function unregisterWasmKernels(list: string | undefined): string[] {
  const names = (list ?? '').split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  for (const name of names) {
    if (tf.getKernel(name, 'wasm') === undefined) throw new Error(`--unregister-kernels: wasm registers no kernel "${name}"`);
    tf.unregisterKernel(name, 'wasm');
  }
  return names;
}
