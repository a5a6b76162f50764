import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/index';

let stdout = '';
let stderr = '';
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

describe('vpeft on Swin', () => {
  it('inspect --backbone swin_base_patch4_window7_224 --method lora:r=8 prints the counts', async () => {
    expect(await runCli(['inspect', '--backbone', 'swin_base_patch4_window7_224', '--method', 'lora:r=8', '--classes', '100', '--json'])).toBe(0);
    const result = JSON.parse(stdout) as { summary: { backboneParams: number; trainableExcludingHead: number } };
    // Swin-B: torchvision's swin_b 87,768,224 minus its 1024x1000 head.
    expect(result.summary.backboneParams).toBe(87_768_224 - (1024 * 1000 + 1000));
    // LoRA r=8 on q and v of every block: 2 · 8 · (d + d) per block, 2/2/18/2 blocks of width 128/256/512/1024.
    expect(result.summary.trainableExcludingHead).toBe(32 * (2 * 128 + 2 * 256 + 18 * 512 + 2 * 1024));
    stdout = '';
    expect(await runCli(['inspect', '--backbone', 'swin_base_patch4_window7_224', '--method', 'lora:r=8', '--classes', '100'])).toBe(0);
    expect(stdout).toMatch(/swin_base_patch4_window7_224 \(random weights\)/);
  });

  it('trains LoRA on the tiny Swin end to end (two MNIST classes) and evaluates the adapter', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-swin-'));
    try {
      const args = ['train', '--backbone', 'swin_test_patch2_window2_32', '--data', 'mnist:classes=0|1', '--method', 'lora:r=2', '--epochs', '1', '--batch-size', '100', '--out', dir, '--json'];
      expect(await runCli(args)).toBe(0);
      const result = JSON.parse(stdout) as { report: { testTop1: number; trainableExcludingHead: number; test: { count: number } } };
      // r=2 on q and v of 7 blocks of width 8/8/16/16/32/32/64.
      expect(result.report.trainableExcludingHead).toBe(8 * (8 + 8 + 16 + 16 + 32 + 32 + 64));
      expect(result.report.test.count).toBeGreaterThan(1000);
      stdout = '';
      expect(await runCli(['eval', '--backbone', 'swin_test_patch2_window2_32', '--adapter', join(dir, 'adapter'), '--data', 'mnist:classes=0|1', '--json'])).toBe(0);
      expect((JSON.parse(stdout) as { top1: number }).top1).toBeCloseTo(result.report.testTop1, 6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
