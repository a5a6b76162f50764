// What the package checks share: the list of publishable packages and `pnpm pack` into a folder.
// Used by scripts/check-packages.mjs (publint + attw on every tarball) and by the install test
// (tests/install/only-what-you-need.test.ts), so both look at exactly what `pnpm publish` would ship.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (this file lives in `<root>/scripts`). */
export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Every package under `packages/` that is not `private`, as `{ dir, name, manifest }`, sorted by folder.
 * @param {string} [root]
 */
export function publishablePackages(root = repoRoot) {
  const base = join(root, 'packages');
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(base, e.name, 'package.json')))
    .map((e) => {
      const dir = join(base, e.name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { dir, name: manifest.name, manifest };
    })
    .filter((p) => !p.manifest.private)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

let pnpm;

/**
 * How to run pnpm: the pnpm that runs this script when started by a pnpm script (`npm_execpath`),
 * else the pnpm 9 binary that `npx --yes -p pnpm@9` provides (looked up once; corepack is not relied on).
 * @returns {Promise<{ file: string, prefix: string[] }>}
 */
export function pnpmCommand() {
  pnpm ??= findPnpm();
  return pnpm;
}

async function findPnpm() {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath) && existsSync(execPath)) {
    return /\.(c|m)?js$/.test(execPath) ? { file: process.execPath, prefix: [execPath] } : { file: execPath, prefix: [] };
  }
  const { stdout } = await run('npx', ['--yes', '-p', 'pnpm@9', '-c', 'command -v pnpm']);
  return { file: stdout.trim(), prefix: [] };
}

/**
 * `pnpm pack` one package into `dest` (workspace: ranges become real versions, as on publish).
 * No package has a `prepack` script: the package's `dist` must already be built.
 * @param {string} dir the package folder
 * @param {string} dest the folder the tarball is written to
 * @returns {Promise<string>} the tarball's path
 */
export async function packPackage(dir, dest) {
  const { file, prefix } = await pnpmCommand();
  const { stdout } = await run(file, [...prefix, 'pack', '--pack-destination', dest], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = stdout.trim().split('\n').filter((l) => l.endsWith('.tgz')).pop();
  if (!tarball) throw new Error(`pnpm pack in ${dir} printed no tarball path:\n${stdout}`);
  return resolve(dest, tarball.trim());
}

/**
 * Runs `task` over `items` with at most `limit` running at once; results in input order.
 * @template T, R
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<R>} task
 * @returns {Promise<R[]>}
 */
export async function mapLimit(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
