import { createRequire } from 'node:module';
import { BackendError } from '../errors/errors';
import { setBackendEnvironment, type BackendEnvironment } from './backend-environment';

const requireFromHere = createRequire(import.meta.url);

/**
 * Node's backend environment, installed when core's Node entry is imported: `auto` tries
 * tfjs-node-gpu > tfjs-node > webgpu > wasm > cpu, and packages are resolved from core with `require`.
 */
export const NODE_BACKEND_ENVIRONMENT: BackendEnvironment = {
  order: ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'],
  installed(pkg) {
    try {
      requireFromHere.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  },
  load(pkg) {
    try {
      requireFromHere(pkg);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return false;
      throw new BackendError(`loading ${pkg} failed: ${(error as Error).message}`);
    }
  },
};

setBackendEnvironment(NODE_BACKEND_ENVIRONMENT);
