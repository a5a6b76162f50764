#!/usr/bin/env node
// Checks every publishable package under packages/ the way a registry user would meet it:
// `pnpm pack` (the real tarball, packed in parallel), then publint and @arethetypeswrong/core on that
// tarball in this one process (their JS APIs, no npx per package). Uses the built `dist` (run
// `pnpm build` first; `pnpm test` does). Prints one line per package and, for a broken package, one
// line per problem; exits 1 when any package is broken.
//
//   node scripts/check-packages.mjs [package-folder-name ...]
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemKindInfo } from '@arethetypeswrong/core/problems';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { mapLimit, packPackage, publishablePackages, repoRoot } from './packages.mjs';

/** `files` entries that are globs are left to the tarball checks; literal ones must exist. */
const GLOB = /[*?[\]{}!]/;

/**
 * A package with no `require` condition anywhere in `exports` is ESM-only on purpose (the CLI):
 * as attw's `--profile esm-only`, CommonJS resolutions (node10, node16-cjs) are not required of it.
 */
const ESM_ONLY_IGNORED = ['node10', 'node16-cjs'];

/** @param {any} manifest */
function esmOnly(manifest) {
  return manifest.type === 'module' && manifest.exports !== undefined && !JSON.stringify(manifest.exports).includes('"require"');
}

/**
 * What is wrong with the package folder before packing: no build, no README, `files` naming
 * something that is not there (pnpm pack silently leaves it out).
 * @param {{ dir: string, manifest: any }} pkg
 * @returns {string[]}
 */
function folderProblems({ dir, manifest }) {
  const problems = [];
  if (!existsSync(join(dir, 'dist'))) problems.push('no dist/ folder: build the package first (pnpm build)');
  if (!existsSync(join(dir, 'README.md'))) problems.push('no README.md: the registry page would be empty');
  const files = manifest.files;
  if (!Array.isArray(files)) {
    problems.push('package.json has no "files" list: pnpm pack would ship everything (tests, sources, configs)');
    return problems;
  }
  for (const entry of files) {
    if (GLOB.test(entry) || existsSync(join(dir, entry))) continue;
    const stem = basename(entry).replace(/\.[^.]*$/, '');
    const near = readdirSync(dir).filter((f) => f.replace(/\.[^.]*$/, '') === stem);
    problems.push(`package.json "files" lists ${entry}, which does not exist${near.length ? ` (there is ${near.join(', ')})` : ''}: it would not ship`);
  }
  return problems;
}

/**
 * publint and attw on the packed tarball.
 * @param {{ dir: string, manifest: any }} pkg
 * @param {string} tarballPath
 * @returns {Promise<string[]>}
 */
async function tarballProblems({ dir, manifest }, tarballPath) {
  const problems = [];
  const data = readFileSync(tarballPath);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

  const lint = await publint({ pack: { tarball: bytes.slice().buffer }, level: 'warning', strict: true });
  for (const message of lint.messages) {
    problems.push(`publint ${message.type}: ${formatMessage(message, lint.pkg, { color: false }) ?? message.code}`);
  }

  const pkg = createPackageFromTarballData(bytes);
  const prefix = `/node_modules/${manifest.name}/`;
  for (const entry of manifest.files ?? []) {
    // Entries missing from the folder are reported above; here: present, yet left out by pack.
    if (GLOB.test(entry) || !existsSync(join(dir, entry))) continue;
    if (!pkg.fileExists(prefix + entry) && !pkg.directoryExists(prefix + entry)) problems.push(`pack: ${entry} (in "files") is not in the tarball`);
  }

  const analysis = await checkPackage(pkg);
  if (analysis.types === false) {
    problems.push('attw: the package ships no type declarations');
  } else {
    const ignored = esmOnly(manifest) ? ESM_ONLY_IGNORED : [];
    for (const problem of analysis.problems) {
      if (problem.resolutionKind && ignored.includes(problem.resolutionKind)) continue;
      const info = problemKindInfo[problem.kind];
      const where = [problem.entrypoint && `entrypoint "${problem.entrypoint}"`, problem.resolutionKind && `resolution ${problem.resolutionKind}`, problem.fileName]
        .filter(Boolean)
        .join(', ');
      problems.push(`attw ${problem.kind}: ${info?.description ?? info?.title ?? ''}${where ? ` (${where})` : ''}`);
    }
  }
  return problems;
}

async function main() {
  const started = performance.now();
  const only = process.argv.slice(2);
  const packages = publishablePackages().filter((p) => only.length === 0 || only.includes(basename(p.dir)));
  if (packages.length === 0) {
    console.error(`check-packages: no publishable package${only.length ? ` named ${only.join(', ')}` : ''} under packages/`);
    process.exit(2);
  }
  const dest = mkdtempSync(join(tmpdir(), 'vpeft-pack-'));
  let failed = 0;
  try {
    // pnpm pack is I/O- and process-bound: run several at once; the linting below is in-process.
    const results = await mapLimit(packages, Math.max(4, availableParallelism() * 2), async (pkg) => {
      const t0 = performance.now();
      const problems = folderProblems(pkg);
      if (problems.some((p) => p.startsWith('no dist/'))) return { pkg, problems, ms: performance.now() - t0 };
      try {
        const tarball = await packPackage(pkg.dir, dest);
        problems.push(...(await tarballProblems(pkg, tarball)));
      } catch (error) {
        // pnpm prints its reason (ERR_PNPM_...) on stdout or stderr; the exec error's message is only the command.
        const output = `${error?.stderr ?? ''}\n${error?.stdout ?? ''}`.split('\n').find((line) => /ERR|error/i.test(line));
        problems.push(`pack/lint failed: ${(output ?? (error instanceof Error ? error.message.split('\n')[0] : String(error))).trim()}`);
      }
      return { pkg, problems, ms: performance.now() - t0 };
    });
    for (const { pkg, problems, ms } of results) {
      const where = relative(repoRoot, pkg.dir);
      if (problems.length === 0) {
        console.log(`ok    ${pkg.name} (${where}) ${(ms / 1000).toFixed(1)} s`);
        continue;
      }
      failed++;
      console.log(`FAIL  ${pkg.name} (${where}): ${problems.length} problem${problems.length > 1 ? 's' : ''}`);
      for (const problem of problems) console.log(`      ${pkg.name}: ${problem}`);
    }
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`packages: ${packages.length - failed} ok, ${failed} broken (pack + publint + attw in ${seconds} s)`);
  process.exit(failed ? 1 : 0);
}

await main();
