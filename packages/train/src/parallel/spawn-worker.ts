import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VpeftError } from '@vpeft/core';

/** Whether this module runs from TypeScript source (tests, tsx) rather than the built `dist/`. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Starts a gradient worker. Built: `dist/parallel/gradient-worker.js`. From source the worker must
 * load TypeScript and resolve workspace packages to `src/`: Node 20 does not hand tsx's loader hooks
 * to worker threads, so the worker registers tsx itself (it must be installed, as it is wherever
 * vpeft runs from source) and gets the `@vpeft/source` condition.
 */
export function spawnGradientWorker(workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./parallel/gradient-worker.js', import.meta.url), { workerData });
  const entry = new URL('./gradient-worker.ts', import.meta.url).href;
  let tsxApi: string;
  try {
    // The ESM build of tsx's API (its CommonJS build cannot register the ESM hooks from a worker).
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
    tsxApi = pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
  } catch {
    throw new VpeftError('data-parallel workers running @vpeft/train from TypeScript source need the tsx package (npm i -D tsx), or use the built package');
  }
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: ['--conditions=@vpeft/source'] });
}
