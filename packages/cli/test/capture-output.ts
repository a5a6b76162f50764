// Captures what a test's in-process `runCli` writes to stdout and stderr.
import { afterEach, beforeEach, vi } from 'vitest';

/** Installs beforeEach/afterEach hooks; read `captured.stdout` / `captured.stderr` in the tests. */
export function captureOutput(): { stdout: string; stderr: string } {
  const captured = { stdout: '', stderr: '' };
  beforeEach(() => {
    captured.stdout = '';
    captured.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((captured.stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((captured.stderr += String(chunk)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return captured;
}
