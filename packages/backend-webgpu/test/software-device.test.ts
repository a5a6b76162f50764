import { describe, expect, it } from 'vitest';
import { isSoftwareDevice } from '../src/index';

describe('isSoftwareDevice', () => {
  it('names CPU implementations of WebGPU and WebGL as software, real GPUs not', () => {
    // Renderer strings as Chromium reports them (WEBGL_debug_renderer_info / GPUAdapter.info).
    expect(isSoftwareDevice('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver-5.0.0)')).toBe(true);
    expect(isSoftwareDevice('google swiftshader')).toBe(true);
    expect(isSoftwareDevice('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareDevice('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)')).toBe(true);
    expect(isSoftwareDevice('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11 vs_5_0 ps_5_0, D3D11)')).toBe(false);
    expect(isSoftwareDevice('nvidia ampere')).toBe(false);
  });
});
