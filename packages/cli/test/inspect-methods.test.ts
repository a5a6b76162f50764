import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index';
import { captureOutput } from './capture-output';

const captured = captureOutput();

// vit_test_patch8_32: D 32, 2 blocks, MLP 128. Counts from each method's formula.
const D = 32;
const MLP = 128;
const BLOCKS = 2;

describe('vpeft inspect with the SSF, FacT, DoRA and RepAdapter packages', () => {
  it.each([
    // SSF: scale + shift after patch embed and final norm, and norm1, qkv, proj, norm2, fc1, fc2 per block.
    ['ssf', 2 * (D + D) + BLOCKS * 2 * (D + 3 * D + D + D + MLP + D)],
    // FacT-TT r = 4: U, V (2·D·r) + per block q, k, v, proj r² and fc1, fc2 (MLP/D)·r² each.
    ['fact:variant=tt,r=4', 2 * D * 4 + BLOCKS * (4 * 16 + 2 * (MLP / D) * 16)],
    // DoRA, r = 8 on the q and v slices: A, B and a magnitude per slice.
    ['lora:dora=true', BLOCKS * 2 * (D * 8 + 8 * D + D)],
    // RepAdapter before qkv and fc1: D·h + h + D·h/g + D each (h 8, g 2).
    ['repadapter', BLOCKS * 2 * (D * 8 + 8 + (D * 8) / 2 + D)],
  ])('--method %s prints the trainable count (%i besides the head)', async (method, count) => {
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3', '--method', method, '--json'])).toBe(0);
    const result = JSON.parse(captured.stdout) as { summary: { trainableExcludingHead: number } };
    expect(result.summary.trainableExcludingHead).toBe(count);
  });

  it('refuses FacT options it does not have, in one line', async () => {
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--method', 'fact:variant=cp'])).toBe(2);
    expect(captured.stderr).toMatch(/variant.*"cp".*"tt", "tk"/);
  });
});

describe('vpeft inspect --method noah (the @vpeft/preset-noah preset)', () => {
  it("prints NOAH's CIFAR-100 subnet on ViT-B/16: prompts Σp·D + LoRA Σr·4D + adapters Σ(2·D·m + m + D)", async () => {
    expect(await runCli(['inspect', '--backbone', 'vit_base_patch16_224', '--classes', '100', '--method', 'noah', '--json'])).toBe(0);
    const result = JSON.parse(captured.stdout) as { summary: { trainableExcludingHead: number } };
    // ZhangYuanhan-AI/NOAH experiments/NOAH/subnet/VTAB/ViT-B_prompt_cifar100.yaml: Σ prompts 69, Σ LoRA ranks 47, Σ adapter dims 74 (12 adapters).
    expect(result.summary.trainableExcludingHead).toBe(69 * 768 + 47 * 4 * 768 + (2 * 768 * 74 + 74 + 12 * 768));
  });

  it('takes per-block dims as lists', async () => {
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--method', 'noah:prompts=2|3,lora=1|0,adapter=0|4', '--json'])).toBe(0);
    const result = JSON.parse(captured.stdout) as { summary: { trainableExcludingHead: number } };
    expect(result.summary.trainableExcludingHead).toBe(5 * D + 1 * 4 * D + (2 * D * 4 + 4 + D));
  });

  it('refuses dims that are not one per block, exit 2', async () => {
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--method', 'noah:prompts=2|3,lora=1'])).toBe(2);
    expect(captured.stderr.trim().split('\n')).toHaveLength(1);
    expect(captured.stderr).toMatch(/--method noah:prompts=2\|3,lora=1: noah: option `lora` got \[1\]; expected 2 entries/);
  });
});
