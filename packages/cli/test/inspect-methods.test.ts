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
