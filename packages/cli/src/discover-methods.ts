import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { listMethods } from '@vpeft/core';

const requireFromHere = createRequire(import.meta.url);

/**
 * Imports every installed `@vpeft/method-*` package (each registers its methods on import) and returns
 * the registered method names. Packages are found in the `@vpeft` scope folder next to `@vpeft/core`,
 * and in the working directory's `node_modules/@vpeft`.
 */
export async function discoverMethods(): Promise<string[]> {
  const scopes = new Set<string>();
  try {
    scopes.add(dirname(dirname(requireFromHere.resolve('@vpeft/core/package.json'))));
  } catch {
    // core resolved some other way; the cwd scope below still applies
  }
  scopes.add(join(process.cwd(), 'node_modules', '@vpeft'));
  const packages = new Set<string>(['@vpeft/method-lora', '@vpeft/method-vpt', '@vpeft/method-adapter', '@vpeft/method-bitfit']);
  for (const scope of scopes) {
    const entries = await readdir(scope).catch(() => [] as string[]);
    for (const entry of entries) if (entry.startsWith('method-')) packages.add(`@vpeft/${entry}`);
  }
  for (const name of packages) {
    try {
      await import(name);
    } catch (error) {
      if (!isNotInstalled(error, name)) throw error;
    }
  }
  return listMethods();
}

/** True when importing `name` failed because the package (or its entry) is not installed. */
function isNotInstalled(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return (message ?? '').includes(name);
  return /Failed to resolve entry for package|Cannot find package/.test(message ?? '') && (message ?? '').includes(name);
}
