// Runs the `vpeft` binary as a user would: a child process (from the TypeScript source, through tsx).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliSource = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** What one run of the binary printed, and its exit code. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr split into lines, without the empty last one. */
  stderrLines: string[];
}

/** Runs a Node script (TypeScript through tsx, workspace packages from `src/`) and collects its output. */
export function runNode(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@vpeft/source', script, ...args], {
      cwd: repoRoot,
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

/** Runs `vpeft ...args`. */
export function vpeft(args: readonly string[], env?: Record<string, string>): Promise<CliRun> {
  return runNode(cliSource, args, env);
}
