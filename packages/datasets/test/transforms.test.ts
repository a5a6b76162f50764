import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedImage } from '../src/index.js';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  ImageDecodeError,
  backboneTransform,
  cropImage,
  decodeImage,
  fgvcTransform,
  mulberry32,
  normalizeInto,
  pipelineKey,
  planCrop,
  shorterSideSize,
  vtabTransform,
} from '../src/index.js';
import { tempDir, writeSolidImage } from './fixtures.js';

let root = '';
let cleanup = async () => {};
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('transforms'));
});
afterAll(() => cleanup());

const vtab = (size: number) => ({ resize: { mode: 'exact' as const, width: size, height: size } });

describe('decodeImage', () => {
  it('decodes PNG, WebP and JPEG solid colours to 3 channels at the asked size', async () => {
    for (const ext of ['png', 'webp', 'jpg']) {
      const path = join(root, `solid.${ext}`);
      await writeSolidImage(path, [200, 100, 50], 50, 40);
      const image = await decodeImage(path, vtab(24));
      expect([image.width, image.height, image.data.length]).toEqual([24, 24, 24 * 24 * 3]);
      const tolerance = ext === 'jpg' ? 3 : 0;
      for (let i = 0; i < image.data.length; i += 3) {
        expect(Math.abs(image.data[i] - 200)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(image.data[i + 1] - 100)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(image.data[i + 2] - 50)).toBeLessThanOrEqual(tolerance);
      }
    }
  });

  it('repeats grey into 3 channels and composites alpha on the background', async () => {
    const greyPng = await sharp(Buffer.alloc(12, 77), { raw: { width: 4, height: 3, channels: 1 } }).png().toBuffer();
    const grey = await decodeImage(greyPng, { resize: { mode: 'none' } });
    expect(Array.from(grey.data.subarray(0, 6))).toEqual([77, 77, 77, 77, 77, 77]);

    // Red at alpha 0.5 over white: 255 * a + 255 * (1 - a) = 255 for R; 0 * a + 255 * (1 - a) for G, B.
    const path = join(root, 'alpha.png');
    await writeSolidImage(path, [255, 0, 0], 8, 8, 0.5);
    const alphaByte = Math.round(0.5 * 255);
    const overWhite = await decodeImage(path, { resize: { mode: 'none' } });
    const expectedGB = Math.round(255 * (1 - alphaByte / 255));
    expect(overWhite.data[0]).toBe(255);
    expect(Math.abs(overWhite.data[1] - expectedGB)).toBeLessThanOrEqual(1);
    const overBlack = await decodeImage(path, { resize: { mode: 'none' }, background: [0, 0, 0] });
    expect(Math.abs(overBlack.data[0] - alphaByte)).toBeLessThanOrEqual(1);
    expect(overBlack.data[1]).toBe(0);

    // Grey + alpha (2 channels) raw pixels.
    const ga = await decodeImage({ data: new Uint8Array(32).fill(200), width: 4, height: 4, channels: 2 }, { resize: { mode: 'none' }, background: [0, 0, 0] });
    expect(Math.abs(ga.data[0] - Math.round((200 * 200) / 255))).toBeLessThanOrEqual(1);
  });

  it('resizes the shorter side as torchvision Resize(int) does', async () => {
    expect(shorterSideSize(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(shorterSideSize(375, 500, 256)).toEqual({ width: 256, height: 341 });
    const path = join(root, 'wide.jpg');
    await writeSolidImage(path, [10, 20, 30], 500, 375);
    const image = await decodeImage(path, { resize: { mode: 'shorter-side', size: 256 } });
    expect([image.width, image.height]).toEqual([341, 256]);
  });

  it('throws ImageDecodeError naming the file for corrupt or truncated images', async () => {
    const garbage = join(root, 'garbage.jpg');
    await writeFile(garbage, 'this is not a jpeg');
    const error = await decodeImage(garbage, { ...vtab(8), origin: { file: '/x/train800.txt', line: 7 } }).catch((e) => e);
    expect(error).toBeInstanceOf(ImageDecodeError);
    expect(error.name).toBe('ImageDecodeError');
    expect(error.message).toMatch(new RegExp(`^/x/train800.txt:7: cannot decode image ${garbage}: `));

    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    const truncated = join(root, 'truncated.jpg');
    await writeFile(truncated, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await expect(decodeImage(truncated, vtab(8))).rejects.toThrowError(ImageDecodeError);
    await expect(decodeImage(join(root, 'absent.jpg'), vtab(8))).rejects.toThrowError(/cannot decode image .*absent.jpg/);
  });
});

describe('transforms', () => {
  it('VTAB preset: direct bicubic resize to 224, ImageNet mean/std; size and normalisation configurable', () => {
    const t = vtabTransform();
    expect(t).toMatchObject({ height: 224, width: 224, resize: { mode: 'exact', width: 224, height: 224 }, crop: 'none', flipProbability: 0, kernel: 'cubic' });
    expect(t.mean).toEqual([0.485, 0.456, 0.406]);
    expect(t.std).toEqual([0.229, 0.224, 0.225]);
    const small = vtabTransform({ size: 32, normalization: 'unit' });
    expect(small).toMatchObject({ height: 32, width: 32, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(vtabTransform({ size: 32, augment: true })).toMatchObject({ resize: { width: 37, height: 37 }, crop: 'random', flipProbability: 0.5 });
    expect(() => vtabTransform({ size: 0 })).toThrowError(/option `size` got 0/);
  });

  it('FGVC preset: shorter side 256, random crop + flip for train, centre crop for test', () => {
    expect(fgvcTransform({ train: true })).toMatchObject({ resize: { mode: 'shorter-side', size: 256 }, crop: 'random', flipProbability: 0.5, height: 224 });
    expect(fgvcTransform({ train: false })).toMatchObject({ resize: { mode: 'shorter-side', size: 256 }, crop: 'center', flipProbability: 0 });
    expect(fgvcTransform({ train: false, size: 64 }).resize).toEqual({ mode: 'shorter-side', size: 73 });
  });

  it('backboneTransform: the dataset pipeline at the backbone input size, normalised as the backbone declares (ImageNet when it does not)', () => {
    const vit = { inputShape: [32, 48, 3] as const };
    const unit = { inputShape: [32, 48, 3] as const, inputNormalization: { mean: [0, 0, 0] as const, std: [1, 1, 1] as const } };
    const vtab = { pipeline: 'vtab' as const };
    const fgvc = { pipeline: 'fgvc' as const };
    expect(backboneTransform(vtab, vit, { train: true })).toEqual(vtabTransform({ size: [32, 48] }));
    expect(backboneTransform(vtab, vit, { train: false })).toMatchObject({ height: 32, width: 48, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(backboneTransform(vtab, unit, { train: false })).toMatchObject({ height: 32, width: 48, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(backboneTransform(fgvc, unit, { train: true })).toEqual(fgvcTransform({ train: true, size: [32, 48], normalization: 'unit' }));
    expect(backboneTransform(fgvc, vit, { train: false })).toEqual(fgvcTransform({ train: false, size: [32, 48] }));
    // The feature cache keys its rows by the pipeline: the two normalisations never share rows.
    expect(pipelineKey(backboneTransform(vtab, unit, { train: false }))).not.toBe(pipelineKey(backboneTransform(vtab, vit, { train: false })));
    // Unit normalisation writes v / 255.
    const out = new Float32Array(3);
    normalizeInto({ data: Uint8Array.from([0, 51, 255]), width: 1, height: 1 }, backboneTransform(vtab, { ...unit, inputShape: [1, 1, 3] }, { train: false }), out, 0);
    expect(Array.from(out)).toEqual([0, Math.fround(51 / 255), 1]);
  });

  // A 10 x 6 image whose R channel is the column and G the row.
  const ramp: DecodedImage = (() => {
    const data = new Uint8Array(6 * 10 * 3);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) data.set([x, y, 0], (y * 10 + x) * 3);
    return { data, width: 10, height: 6 };
  })();

  it('centre crop matches torchvision (round half to even)', () => {
    const t = { ...fgvcTransform({ train: false, size: 4, resizeTo: 4 }) };
    const plan = planCrop(t, 6, 10, mulberry32(1));
    expect(plan).toEqual({ top: 1, left: 3, flip: false });
    const out = cropImage(ramp, t, mulberry32(1));
    expect(out.data[0]).toBe(3);
    expect(out.data[1]).toBe(1);
  });

  it('random crop and flip are drawn from the seed and stay inside the image', () => {
    const t = fgvcTransform({ train: true, size: 4, resizeTo: 4 });
    const plans = Array.from({ length: 200 }, (_, i) => planCrop(t, 6, 10, mulberry32(i)));
    expect(new Set(plans.map((p) => p.left))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    expect(new Set(plans.map((p) => p.top))).toEqual(new Set([0, 1, 2]));
    expect(plans.filter((p) => p.flip).length).toBeGreaterThan(60);
    expect(plans.filter((p) => p.flip).length).toBeLessThan(140);
    expect(planCrop(t, 6, 10, mulberry32(5))).toEqual(planCrop(t, 6, 10, mulberry32(5)));
    const i = plans.findIndex((p) => p.flip);
    const out = cropImage(ramp, t, mulberry32(i));
    const { left, top } = plans[i];
    expect([out.data[0], out.data[1]]).toEqual([left + 3, top]); // flipped: first column is the crop's last
    expect(out.data[3 * 3]).toBe(left);
  });

  it('normalises with (v / 255 - mean) / std', () => {
    const image: DecodedImage = { data: new Uint8Array([255, 128, 0]), width: 1, height: 1 };
    const out = new Float32Array(4);
    normalizeInto(image, { ...vtabTransform({ size: 1 }) }, out, 1);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo((1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], 5);
    expect(out[2]).toBeCloseTo((128 / 255 - IMAGENET_MEAN[1]) / IMAGENET_STD[1], 5);
    expect(out[3]).toBeCloseTo((0 - IMAGENET_MEAN[2]) / IMAGENET_STD[2], 5);
  });
});
