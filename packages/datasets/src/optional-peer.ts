import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { MissingPackageError } from './errors.js';

const requireHere = createRequire(import.meta.url);

/**
 * The install folder of an optional peer package (read by path, not imported), or a
 * {@link MissingPackageError} that names the package to install.
 */
export function optionalPackageRoot(packageName: string, purpose: string, installSpec = packageName): string {
  try {
    return dirname(requireHere.resolve(`${packageName}/package.json`));
  } catch {
    throw new MissingPackageError(packageName, purpose, installSpec);
  }
}
