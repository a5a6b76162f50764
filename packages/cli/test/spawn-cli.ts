// Runs the `vpeft` binary as a user would: a child process (from the TypeScript source, through tsx).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliSource = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// tsx's loader by absolute URL, so a run from another working directory (a user's project) finds it too.
const tsxLoader = pathToFileURL(join(dirname(createRequire(join(repoRoot, 'package.json')).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

/** What one run of the binary printed, and its exit code. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr split into lines, without the empty last one. */
  stderrLines: string[];
}

/** Runs a Node script (TypeScript through tsx, workspace packages from `src/`) and collects its output. */
export function runNode(script: string, args: readonly string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=@vpeft/source', script, ...args], {
      cwd,
      env: { ...process.env, VPEFT_DEBUG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, stderrLines: stderr.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1) }));
  });
}

/** Runs `vpeft ...args` (in the repository root, or `cwd`). */
export function vpeft(args: readonly string[], env?: Record<string, string>, cwd?: string): Promise<CliRun> {
  return runNode(cliSource, args, env, cwd);
}
