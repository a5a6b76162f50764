import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeVtabTask } from '../../datasets/test/fixtures';
import { vpeft } from './spawn-cli';

// Debian's chromium ships a SwiftShader Vulkan driver: Dawn offers a software WebGPU adapter on it.
// `.ci/run` installs chromium when missing; without it this test fails (never skips).
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SWIFTSHADER = { VK_ICD_FILENAMES: ICD, XDG_RUNTIME_DIR: '/tmp' };

let root = '';
let cleanup = async () => {};
beforeAll(async () => {
  // A tiny task (6 train, 3 val, 3 test images): SwiftShader computes on the CPU, slowly.
  ({ dir: root, cleanup } = await tempDir('cli-webgpu'));
  await writeVtabTask(root, 'tiny', 3, { train800: 6, val200: 3, test: 3 });
});
afterAll(() => cleanup());

describe('vpeft --backend webgpu', () => {
  it('computes on webgpu over SwiftShader and names the adapter', async () => {
    expect(existsSync(ICD), `${ICD} (Debian chromium) is needed`).toBe(true);
    const run = await vpeft(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3', '--method', 'lora:r=4', '--backend', 'webgpu'], {
      VK_ICD_FILENAMES: ICD,
      XDG_RUNTIME_DIR: '/tmp',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/backend: +webgpu \(@vpeft\/backend-webgpu; SwiftShader.*\(software\)\)/);
  });

  it('refuses webgpu in one line when there is no adapter', async () => {
    const run = await vpeft(['inspect', '--backbone', 'vit_test_patch8_32', '--backend', 'webgpu'], { VK_ICD_FILENAMES: '/nonexistent.json', XDG_RUNTIME_DIR: '/tmp' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/backend "webgpu": no webgpu device found/);
  });

  it('trains (vpeft train --backend webgpu) to the losses and accuracies of the same run on wasm', async () => {
    expect(existsSync(ICD), `${ICD} (Debian chromium) is needed`).toBe(true);
    const args = ['train', '--backbone', 'vit_test_patch8_32', '--data', `vtab1k:${root}:tiny`, '--method', 'lora:r=2', '--epochs', '2', '--batch-size', '3', '--warmup-epochs', '0', '--no-cache', '--json'];
    const [gpu, wasm] = [await vpeft([...args, '--backend', 'webgpu'], SWIFTSHADER), await vpeft([...args, '--backend', 'wasm'])];
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(wasm.code, wasm.stderr).toBe(0);
    const [g, w] = [JSON.parse(gpu.stdout), JSON.parse(wasm.stdout)];
    expect(g.backend).toMatch(/^webgpu/);
    expect(g.report.fit.steps).toBe(4);
    // Same seed, data and recipe: only float summation order differs between the backends.
    expect(g.report.fit.finalLoss).toBeCloseTo(w.report.fit.finalLoss, 3);
    expect(g.report.fit.evaluations.map((e: { top1: number }) => e.top1)).toEqual(w.report.fit.evaluations.map((e: { top1: number }) => e.top1));
    expect(g.report.test.top1).toBe(w.report.test.top1);
  }, 240_000);
});
