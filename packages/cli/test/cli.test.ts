import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/index';

let stdout = '';
let stderr = '';
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('vpeft CLI', () => {
  it('inspect prints the backend and a parameter table; --json gives the same numbers', async () => {
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3'])).toBe(0);
    expect(stdout).toMatch(/backend: +wasm/);
    expect(stdout).toMatch(/backbone +\d/);
    stdout = '';
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3', '--json'])).toBe(0);
    const result = JSON.parse(stdout) as { summary: { trainableTotal: number; backboneParams: number } };
    // Linear probe on a width-32 ViT: the head has 32·3 + 3 parameters.
    expect(result.summary.trainableTotal).toBe(32 * 3 + 3);
  });

  it('exits 2 with a clear message on bad arguments', async () => {
    expect(await runCli(['inspect', '--method', 'nosuchmethod:r=8'])).toBe(2);
    expect(stderr).toMatch(/unknown method "nosuchmethod".*installed methods:/);
    expect(await runCli(['inspect', '--classes', 'zero'])).toBe(2);
    expect(stderr).toMatch(/--classes expects a positive integer/);
    expect(await runCli(['inspect', '--backbone', 'resnet9000'])).toBe(2);
    expect(stderr).toMatch(/unknown backbone "resnet9000"; known: mobilenet_v2/);
    expect(await runCli(['frobnicate'])).toBe(2);
    expect(stderr).toMatch(/unknown command "frobnicate"/);
    expect(await runCli(['inspect', '--no-such-flag'])).toBe(2);
    expect(await runCli(['merge', '--backbone', 'vit_test_patch8_32'])).toBe(2);
    expect(stderr).toMatch(/needs --adapter/);
  });
});
