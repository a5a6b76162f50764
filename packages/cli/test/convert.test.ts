import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/index';

// The random-weight Google .npz ViT of @vpeft/convert's fixtures (width 32, 2 blocks, patch 8, 32 px, 5 classes).
const npz = fileURLToPath(new URL('../../convert/test/fixtures/big-vision.npz', import.meta.url));
const hf = fileURLToPath(new URL('../../convert/test/fixtures/hf-vit.safetensors', import.meta.url));

let stdout = '';
let stderr = '';
let dir = '';
beforeEach(async () => {
  stdout = '';
  stderr = '';
  dir = await mkdtemp(join(tmpdir(), 'vpeft-convert-cli-'));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('vpeft convert', () => {
  it('writes timm-named safetensors that inspect then loads by path', async () => {
    const out = join(dir, 'vit.safetensors');
    expect(await runCli(['convert', '--from', 'npz', npz, '--out', out])).toBe(0);
    expect(stdout).toMatch(/wrote .*vit\.safetensors: vit_test_patch8_32 \(width 32, 2 blocks, 4 heads, patch 8, 32 px\)/);
    stdout = '';
    expect(await runCli(['inspect', '--backbone', out, '--classes', '5', '--method', 'lora:r=2', '--json'])).toBe(0);
    const result = JSON.parse(stdout) as { summary: { trainableExcludingHead: number; backboneParams: number } };
    // LoRA r=2 on q and v of 2 blocks, width 32: 2 blocks · 2 slices · 2 · (32 + 32).
    expect(result.summary.trainableExcludingHead).toBe(2 * 2 * 2 * (32 + 32));
    // The ViT's own count: patch 8·8·3·32 + 32, CLS 32, pos 17·32, 2 blocks of (4·32 + 32·96 + 96 + 32·32 + 32 + 32·128 + 128 + 128·32 + 32), final norm 64.
    const block = 4 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 32 * 128 + 128 + 128 * 32 + 32;
    expect(result.summary.backboneParams).toBe(8 * 8 * 3 * 32 + 32 + 32 + 17 * 32 + 2 * block + 64);
  });

  it('bad input: one clear line and exit 2', async () => {
    const out = join(dir, 'x.safetensors');
    expect(await runCli(['convert', '--from', 'clip', hf, '--out', out])).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(/^vpeft: convert --from clip: .*hf-vit\.safetensors: tensor "conv1\.weight" is missing: not a checkpoint in the OpenAI\/OpenCLIP ViT layout/);
    stderr = '';
    expect(await runCli(['convert', '--from', 'onnx', npz, '--out', out])).toBe(2);
    expect(stderr).toMatch(/needs --from npz\|hf\|dinov2\|clip, got "onnx"/);
    stderr = '';
    expect(await runCli(['convert', '--from', 'npz', join(dir, 'missing.npz'), '--out', out])).toBe(2);
    expect(stderr).toMatch(/missing\.npz: no such file/);
    stderr = '';
    expect(await runCli(['convert', '--from', 'npz', npz])).toBe(2);
    expect(stderr).toMatch(/needs --out/);
  });
});
