import { initBackend, type BackendChoice, type BackendInfo } from '@vpeft/core';

const WEBGPU_PACKAGE = '@vpeft/backend-webgpu';

/**
 * Starts the backend a command was asked for (`--backend`, else `VPEFT_BACKEND`, else auto). For
 * `webgpu` it first imports `@vpeft/backend-webgpu` (an optional peer of the CLI: install it to compute
 * on the GPU), which registers the choice with core; core's errors name what is missing.
 */
export async function startBackend(value: unknown): Promise<BackendInfo> {
  const option = typeof value === 'string' ? value : undefined;
  const requested = option ?? process.env.VPEFT_BACKEND?.trim() ?? 'auto';
  if (requested === 'webgpu') {
    try {
      await import(/* @vite-ignore */ WEBGPU_PACKAGE);
    } catch {
      // Not installed: initBackend says which package to install.
    }
  }
  return initBackend({ backend: (option ?? 'auto') as BackendChoice | 'auto' });
}
