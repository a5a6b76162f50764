import sharp from 'sharp';
import type { Sharp } from 'sharp';
import type { ImageSource } from './dataset.js';
import { describeSource } from './dataset.js';
import type { SampleOrigin } from './errors.js';
import { ImageDecodeError } from './errors.js';

/** An RGB image, 8 bits per channel, interleaved (HWC). */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** How the decoder resizes: to an exact size, so the shorter side has a given length, or not at all. */
export type ResizeSpec =
  | { readonly mode: 'exact'; readonly width: number; readonly height: number }
  | { readonly mode: 'shorter-side'; readonly size: number }
  | { readonly mode: 'none' };

/** Resampling kernels (sharp/libvips). `cubic` is Catmull-Rom, as PIL's BICUBIC (a = -0.5). */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** Decoder settings. */
export interface DecodeOptions {
  readonly resize: ResizeSpec;
  /** Default `cubic` (bicubic, as the benchmark's `Resize(..., BICUBIC)`). */
  readonly kernel?: ResizeKernel;
  /** Background that transparent pixels are composited on. Default white `[255, 255, 255]`. */
  readonly background?: Rgb;
  /** sharp's `failOn`: how strictly to treat damaged files. Default `warning` (truncated files fail). */
  readonly failOn?: 'none' | 'truncated' | 'error' | 'warning';
  /** For messages: where the sample came from. */
  readonly origin?: SampleOrigin;
}

/** Default background for images with alpha: white. */
export const DEFAULT_BACKGROUND: Rgb = [255, 255, 255];

/**
 * Size after "resize the shorter side to `size`", as torchvision's `Resize(int)` computes it:
 * the shorter side becomes `size`, the longer `floor(size * long / short)`.
 */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.floor((size * height) / width) };
  return { width: Math.floor((size * width) / height), height: size };
}

/**
 * Decodes an image (JPEG, PNG, WebP, GIF, TIFF, AVIF... or raw pixels) with sharp into 8-bit RGB,
 * resized as asked. Grey images become 3 equal channels; alpha is composited on `background`;
 * CMYK and 16-bit images are converted to 8-bit sRGB. EXIF orientation is not applied (as PIL's
 * plain `Image.open`). Throws {@link ImageDecodeError} naming the file for unreadable images.
 */
export async function decodeImage(source: ImageSource, options: DecodeOptions): Promise<DecodedImage> {
  const kernel = options.kernel ?? 'cubic';
  const [r, g, b] = options.background ?? DEFAULT_BACKGROUND;
  try {
    const input =
      typeof source === 'string' || source instanceof Uint8Array
        ? sharp(source, { failOn: options.failOn ?? 'warning' })
        : sharp(source.data, { raw: { width: source.width, height: source.height, channels: source.channels } });
    let pipeline = input.flatten({ background: { r, g, b } });
    const resize = options.resize;
    if (resize.mode === 'exact') {
      pipeline = pipeline.resize({ width: resize.width, height: resize.height, fit: 'fill', kernel });
    } else if (resize.mode === 'shorter-side') {
      const size = await sourceSize(source, input);
      const target = shorterSideSize(size.width, size.height, resize.size);
      pipeline = pipeline.resize({ width: target.width, height: target.height, fit: 'fill', kernel });
    }
    const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    // sharp's messages can end in ": " with nothing after; keep the message one clean clause.
    const reason = (error instanceof Error ? error.message : String(error)).trim().replace(/\s*:$/, '');
    throw new ImageDecodeError(describeSource(source), options.origin, reason);
  }
}

async function sourceSize(source: ImageSource, input: Sharp): Promise<{ width: number; height: number }> {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) return source;
  const meta = await input.metadata();
  if (!meta.width || !meta.height) throw new Error('image has no size');
  return { width: meta.width, height: meta.height };
}
