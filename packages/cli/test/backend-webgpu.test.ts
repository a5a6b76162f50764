import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vpeft } from './spawn-cli';

// Debian's chromium ships a SwiftShader Vulkan driver: Dawn offers a software WebGPU adapter on it.
// `.ci/run` installs chromium when missing; without it this test fails (never skips).
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

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
});
