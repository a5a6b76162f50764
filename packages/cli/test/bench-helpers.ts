import { vi } from 'vitest';
import { runCli } from '../src/index';

/** Runs the CLI in-process and captures what it writes. */
export async function runCaptured(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** A cell of results.json without the fields that measure time or this process's memory. */
export function comparable(cell: Record<string, unknown>): Record<string, unknown> {
  const { imagesPerSecond: _speed, wallSeconds: _wall, peakMemoryBytes: _memory, ...rest } = cell;
  return rest;
}
