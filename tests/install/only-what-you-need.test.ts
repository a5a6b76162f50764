// "Only what you need": a user who wants LoRA installs @vpeft/core + @vpeft/method-lora (+ @vpeft/backend-wasm
// to train in Node: tfjs-core alone has no gradients) and gets nothing else of vpeft. The three packages are
// packed as for publishing, installed from their tarballs into a project outside the workspace, offline
// (tfjs and the rest from the local pnpm store), and a TypeScript program there type-checks against the
// shipped declarations, builds a tiny ViT, applies LoRA, trains one step and saves the adapter.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packPackage, pnpmCommand, repoRoot } from '../../scripts/packages.mjs';
import { lockfileVersionCaps } from './lockfile-caps';

const run = promisify(execFile);
const PACKAGES = ['core', 'method-lora', 'backend-wasm'];
const here = join(repoRoot, 'tests', 'install');
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

describe('installing @vpeft/core + @vpeft/method-lora from their tarballs', () => {
  const root = mkdtempSync(join(tmpdir(), 'vpeft-install-'));
  const app = join(root, 'app');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('trains one LoRA step and saves the adapter, with no other vpeft package installed', async () => {
    expect(relative(repoRoot, root).startsWith('..')).toBe(true); // outside the workspace: no workspace links
    const pnpm = (await pnpmCommand()) as { file: string; prefix: string[] };

    // The tarballs need the built dist; `pnpm test` builds first, a lone run of this file builds what is missing.
    for (const name of PACKAGES) {
      if (!existsSync(join(repoRoot, 'packages', name, 'dist'))) {
        await run(pnpm.file, [...pnpm.prefix, 'run', 'build'], { cwd: join(repoRoot, 'packages', name) });
      }
    }
    const tarballs = await Promise.all(PACKAGES.map((name) => packPackage(join(repoRoot, 'packages', name), root) as Promise<string>));

    mkdirSync(app);
    const manifest = {
      name: 'vpeft-install-test',
      private: true,
      type: 'module',
      dependencies: {
        '@tensorflow/tfjs-core': '4.22.0',
        ...Object.fromEntries(PACKAGES.map((name, i) => [`@vpeft/${name}`, `file:${tarballs[i]}`])),
      },
      // Offline resolution takes the newest version in pnpm's metadata cache, which may be newer than
      // what the store holds: keep every package at or below the workspace lockfile's versions.
      pnpm: { overrides: lockfileVersionCaps(readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8')) },
    };
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(app, '.npmrc'), 'auto-install-peers=false\n');
    for (const file of ['main.ts', 'tsconfig.json']) copyFileSync(join(here, 'consumer', file), join(app, file));

    const install = (mode: string) => run(pnpm.file, [...pnpm.prefix, 'install', mode, '--ignore-workspace'], { cwd: app, maxBuffer: 16 << 20 });
    try {
      await install('--offline');
    } catch (error) {
      // A machine whose workspace install came from the lockfile alone has package files in the store but
      // no registry metadata to resolve with: then fetch metadata only (the package files still come from the store).
      if (!String((error as { stdout?: string }).stdout ?? error).includes('ERR_PNPM_NO_OFFLINE_META')) throw error;
      console.info('install test: no registry metadata cached, installing with --prefer-offline');
      await install('--prefer-offline');
    }

    // Only the three vpeft packages: no datasets, pretrained weights, CLI, trainer or other method.
    const installed = readdirSync(join(app, 'node_modules', '.pnpm'))
      .filter((entry) => entry.startsWith('@vpeft+'))
      .map((entry) => entry.slice('@vpeft+'.length).split('@')[0]);
    expect(installed.sort()).toEqual([...PACKAGES].sort());
    expect(readdirSync(join(app, 'node_modules', '@vpeft')).sort()).toEqual([...PACKAGES].sort());

    // The program type-checks against the published declarations, then runs.
    await run(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: app });
    const { stdout } = await run(bin('tsx'), ['main.ts'], { cwd: app, env: { ...process.env, VPEFT_BACKEND: '' } });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      backend: string;
      trainableExcludingHead: number;
      loss: number;
      loraBBefore: number[];
      loraBAfter: number[];
    };
    expect(result.backend).toBe('wasm');
    // vit_test_patch8_32 (dim 32, 2 blocks), LoRA r = 2 on the q and v slices: 2 blocks · 2 slices · (32·2 + 2·32).
    expect(result.trainableExcludingHead).toBe(2 * 2 * (32 * 2 + 2 * 32));
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.loraBBefore).toEqual([0, 0, 0, 0]);
    expect(result.loraBAfter.every((sum) => sum > 0)).toBe(true);

    const config = JSON.parse(readFileSync(join(app, 'adapter', 'adapter_config.json'), 'utf8'));
    expect(JSON.stringify(config)).toContain('@vpeft/method-lora');
    expect(existsSync(join(app, 'adapter', 'adapter.safetensors'))).toBe(true);
  });
});
