import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FileFormatError, readSafetensors, ShapeMismatchError } from '@vpeft/core';
import { describe, expect, it } from 'vitest';
import { convertCheckpoint, fromBigVision, fromClip, fromHuggingFaceViT, readNpz } from '../src/index';
import { permute } from '../src/tensor-data';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('.npz reading', () => {
  it('reads deflated entries (np.savez_compressed) to the values numpy saved', async () => {
    const expected = (JSON.parse(readFileSync(fixture('big-vision.json'), 'utf8')) as { deflate: Record<string, { shape: number[]; data: number[] }> }).deflate;
    const tensors = await readNpz(fixture('big-vision-deflate.npz'));
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, t] of tensors) {
      expect(t.shape).toEqual(expected[name]!.shape);
      expect(Array.from(t.data)).toEqual(expected[name]!.data.map(Math.fround));
    }
  });

  it('reads a Fortran-order array (np.save of a transposed array) in row-major order', async () => {
    // head/kernel was saved from a transposed tensor; its transpose must equal the stored head.weight rows.
    const tensors = await readNpz(fixture('big-vision.npz'));
    const kernel = tensors.get('head/kernel')!;
    expect(kernel.shape).toEqual([32, 5]);
    const converted = fromBigVision(tensors, 'big-vision.npz');
    const head = converted.tensors.get('head.weight')!;
    expect(head.shape).toEqual([5, 32]);
    expect(head.data[1 * 32 + 3]).toBe(kernel.data[3 * 5 + 1]);
  });

  it('names the file when it is not a zip', async () => {
    await expect(readNpz(fixture('clip.json'))).rejects.toThrow(/clip\.json: not a zip archive/);
  });
});

describe('layout errors name the file, the key and what was expected', () => {
  it('a checkpoint of another layout: the missing key and the layout asked for', async () => {
    await expect(convertCheckpoint('clip', fixture('hf-vit.safetensors'))).rejects.toThrow(
      /hf-vit\.safetensors: tensor "conv1\.weight" is missing: not a checkpoint in the OpenAI\/OpenCLIP ViT layout/,
    );
    await expect(convertCheckpoint('npz', fixture('hf-vit.safetensors'))).rejects.toThrow(FileFormatError);
  });

  it('a tensor of the wrong shape', async () => {
    const { tensors } = await readSafetensors(fixture('hf-vit.safetensors'));
    const key = 'vit.encoder.layer.1.attention.attention.key.weight';
    tensors.set(key, { ...tensors.get(key)!, shape: [16, 64] });
    expect(() => fromHuggingFaceViT(tensors, 'hf', { numHeads: 4 })).toThrow(ShapeMismatchError);
    expect(() => fromHuggingFaceViT(tensors, 'hf', { numHeads: 4 })).toThrow(/"vit\.encoder\.layer\.1\.attention\.attention\.key\.weight" has shape \[16, 64\], expected \[32, 32\]/);
  });

  it('a tensor the layout does not have is not silently dropped', async () => {
    const { tensors } = await readSafetensors(fixture('clip.safetensors'));
    tensors.set('visual.transformer.resblocks.0.ls_1.gamma', { dtype: 'F32', shape: [32], data: new Float32Array(32) });
    expect(() => fromClip(tensors, 'clip', { numHeads: 4 })).toThrow(/1 tensor\(s\) not in the OpenAI\/OpenCLIP ViT layout: visual\.transformer\.resblocks\.0\.ls_1\.gamma/);
  });

  it('a head count that does not divide the width', async () => {
    await expect(convertCheckpoint('clip', fixture('clip.safetensors'), { numHeads: 5 })).rejects.toThrow(/option `numHeads` got 5; expected a divisor of the width 32/);
  });

  it('a head count the checkpoint cannot tell and the width does not imply', async () => {
    await expect(convertCheckpoint('dinov2', fixture('dinov2.safetensors'))).rejects.toThrow(/width 32 is not a multiple of 64/);
  });
});

describe('permute', () => {
  it('moves axes as torch.permute does', () => {
    // x[i][j][k] = 100i + 10j + k, shape [2, 3, 4]; permute(2, 0, 1) -> y[k][i][j] = x[i][j][k].
    const data = new Float32Array(24).map((_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4));
    const y = permute({ shape: [2, 3, 4], data }, [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    expect(y.data[3 * 6 + 1 * 3 + 2]).toBe(123);
    expect(y.data[0 * 6 + 1 * 3 + 0]).toBe(100);
  });
});
