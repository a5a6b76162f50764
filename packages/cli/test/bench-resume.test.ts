import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const SPEC = fileURLToPath(new URL('./fixtures/bench-tiny.yaml', import.meta.url));

/** Spawns the `vpeft` binary (from source); `killWhen` sends SIGKILL once stderr matches it. */
function vpeft(args: string[], killWhen?: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@vpeft/source', '--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killWhen && killWhen.test(stderr)) child.kill('SIGKILL');
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function cellLines(text: string): string[] {
  return text.split('\n').filter((line) => line.includes('"kind":"cell"'));
}

describe('vpeft bench resume', () => {
  it('kill -9 during a cell, then the same command finishes the grid without redoing finished cells', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-bench-kill-'));
    try {
      const args = ['bench', '--spec', SPEC, '--out', dir];
      // Killed while the second cell trains (its progress line is the first sign of it).
      const killed = await vpeft(args, /cell 2\/3 .*step \d+\/\d+/);
      expect(killed.signal).toBe('SIGKILL');
      const before = await readFile(join(dir, 'results.jsonl'), 'utf8');
      const finishedBefore = cellLines(before);
      expect(finishedBefore).toHaveLength(1);
      expect(finishedBefore[0]).toContain('"method":"linear"');

      const resumed = await vpeft(args);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain('1 of 3 cells already finished; skipping them');
      // The finished cell did not train again: no progress line of cell 1.
      expect(resumed.stderr).not.toMatch(/cell 1\/3 /);
      const after = await readFile(join(dir, 'results.jsonl'), 'utf8');
      // Everything written before the kill is still there, byte for byte, and each cell appears once.
      expect(after.startsWith(before.slice(0, before.lastIndexOf('\n') + 1))).toBe(true);
      const cells = cellLines(after).map((line) => JSON.parse(line) as { id: string; method: string });
      expect(cells.map((c) => c.method)).toEqual(['linear', 'bitfit', 'lora r=2']);
      expect(new Set(cells.map((c) => c.id)).size).toBe(3);
      const report = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { cells: unknown[] };
      expect(report.cells).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
