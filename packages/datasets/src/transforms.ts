import type { DecodedImage, ResizeKernel, ResizeSpec, Rgb } from './decode.js';
import { DatasetOptionError } from './errors.js';
import type { RandomSource } from './random.js';
import { randomInt } from './random.js';

/** ImageNet channel means (RGB, in [0, 1] units), as the benchmark normalises. */
export const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations (RGB, in [0, 1] units). */
export const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];

/**
 * A complete preprocessing recipe: decode-time resize, then crop, optional horizontal flip and
 * per-channel normalisation `out = (pixel / 255 - mean[c]) / std[c]` into NHWC float32.
 */
export interface ImageTransform {
  /** Output height and width. */
  readonly height: number;
  readonly width: number;
  /** Resize done while decoding (sharp). */
  readonly resize: ResizeSpec;
  /** Crop of the resized image to `height x width`: `none` requires the resize to give that size. */
  readonly crop: 'none' | 'center' | 'random';
  /** Probability of a horizontal flip (0 = never). */
  readonly flipProbability: number;
  readonly mean: Rgb;
  readonly std: Rgb;
  readonly kernel: ResizeKernel;
  /** Background for transparent pixels (0..255 RGB). */
  readonly background: Rgb;
}

/** Normalisation: ImageNet mean/std, plain [0, 1] scaling (`unit`), or explicit mean/std in [0, 1] units. */
export type Normalization = 'imagenet' | 'unit' | { readonly mean: Rgb; readonly std: Rgb };

/** Options common to the transform presets. */
export interface TransformPresetOptions {
  /** Output size (square) or `[height, width]`. */
  readonly size?: number | readonly [number, number];
  /** Default `imagenet`. */
  readonly normalization?: Normalization;
  /** Default `cubic`. */
  readonly kernel?: ResizeKernel;
  /** Default white. */
  readonly background?: Rgb;
}

/** Options for {@link vtabTransform}. */
export interface VtabTransformOptions extends TransformPresetOptions {
  /**
   * Train-time augmentation (not in the benchmark's VTAB recipe, off by default): random horizontal
   * flip (p = 0.5) and a random crop from a resize to `size * 8 / 7` (256 for 224).
   */
  readonly augment?: boolean;
}

/** Options for {@link fgvcTransform}. */
export interface FgvcTransformOptions extends TransformPresetOptions {
  /** Train: random crop + horizontal flip; test: centre crop. */
  readonly train: boolean;
  /** Shorter side before cropping. Default `round(size * 256 / 224)` (256 for 224). */
  readonly resizeTo?: number;
}

function sizeOf(size: number | readonly [number, number] | undefined, fallback: number): [number, number] {
  const [height, width] = size === undefined ? [fallback, fallback] : typeof size === 'number' ? [size, size] : size;
  for (const v of [height, width]) {
    if (!Number.isInteger(v) || v < 1) throw new DatasetOptionError('size', size, 'a positive integer or [height, width]');
  }
  return [height, width];
}

function normalizationOf(normalization: Normalization | undefined): { mean: Rgb; std: Rgb } {
  if (normalization === undefined || normalization === 'imagenet') return { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  if (normalization === 'unit') return { mean: [0, 0, 0], std: [1, 1, 1] };
  if (normalization.std.some((s) => !(s > 0))) throw new DatasetOptionError('normalization.std', normalization.std.join(','), 'positive numbers');
  return normalization;
}

/**
 * The benchmark's VTAB-1k pipeline: direct bicubic resize to `size` (default 224x224, aspect not
 * kept), ImageNet normalisation. With `augment`, train-time random crop + flip (see options).
 */
export function vtabTransform(options: VtabTransformOptions = {}): ImageTransform {
  const [height, width] = sizeOf(options.size, 224);
  const { mean, std } = normalizationOf(options.normalization);
  const base = { height, width, mean, std, kernel: options.kernel ?? 'cubic', background: options.background ?? [255, 255, 255] } as const;
  if (options.augment) {
    const scale = 8 / 7;
    return {
      ...base,
      resize: { mode: 'exact', width: Math.round(width * scale), height: Math.round(height * scale) },
      crop: 'random',
      flipProbability: 0.5,
    };
  }
  return { ...base, resize: { mode: 'exact', width, height }, crop: 'none', flipProbability: 0 };
}

/**
 * The benchmark's FGVC pipeline: resize the shorter side to 256 (bicubic), then random crop 224 +
 * horizontal flip (train) or centre crop 224 (test); ImageNet normalisation.
 */
export function fgvcTransform(options: FgvcTransformOptions): ImageTransform {
  const [height, width] = sizeOf(options.size, 224);
  const { mean, std } = normalizationOf(options.normalization);
  const resizeTo = options.resizeTo ?? Math.round((Math.max(height, width) * 256) / 224);
  if (!Number.isInteger(resizeTo) || resizeTo < Math.max(height, width)) {
    throw new DatasetOptionError('resizeTo', resizeTo, `an integer >= the crop size ${Math.max(height, width)}`);
  }
  return {
    height,
    width,
    mean,
    std,
    kernel: options.kernel ?? 'cubic',
    background: options.background ?? [255, 255, 255],
    resize: { mode: 'shorter-side', size: resizeTo },
    crop: options.train ? 'random' : 'center',
    flipProbability: options.train ? 0.5 : 0,
  };
}

/** The pipeline a dataset's benchmark uses: `vtab` → {@link vtabTransform}, `fgvc` → {@link fgvcTransform}. */
export function defaultTransform(pipeline: 'vtab' | 'fgvc', options: { train: boolean } & TransformPresetOptions): ImageTransform {
  return pipeline === 'fgvc' ? fgvcTransform(options) : vtabTransform(options);
}

/**
 * What {@link backboneTransform} reads of a backbone (structurally `@vpeft/core`'s `Backbone`):
 * its input size `[height, width, channels]` and the normalisation its weights expect (absent: ImageNet).
 */
export interface TransformTarget {
  readonly inputShape: readonly [number, number, number];
  readonly inputNormalization?: { readonly mean: Rgb; readonly std: Rgb };
}

/**
 * The benchmark preprocessing of a dataset for a backbone — the one place the CLI (`train`, `eval`,
 * multi-task), the bench and the web app build it: the dataset's pipeline ({@link defaultTransform};
 * FGVC augments when `train`) at the backbone's input size, normalised as the backbone declares.
 */
export function backboneTransform(dataset: { readonly pipeline: 'vtab' | 'fgvc' }, backbone: TransformTarget, options: { readonly train: boolean }): ImageTransform {
  const [height, width] = backbone.inputShape;
  return defaultTransform(dataset.pipeline, { train: options.train, size: [height, width], normalization: backbone.inputNormalization ?? 'imagenet' });
}

/** Python's `round` (half to even), as torchvision's centre crop uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Where a crop starts and whether to flip: the random parts of a transform, drawn from `random`. */
export interface CropPlan {
  readonly top: number;
  readonly left: number;
  readonly flip: boolean;
}

/** Draws the crop offset and flip for an image of the given size (deterministic given `random`). */
export function planCrop(transform: ImageTransform, imageHeight: number, imageWidth: number, random: RandomSource): CropPlan {
  const { height, width } = transform;
  if (imageHeight < height || imageWidth < width) {
    throw new DatasetOptionError('transform', `${imageHeight}x${imageWidth} image`, `an image at least ${height}x${width} after resize`);
  }
  let top = 0;
  let left = 0;
  if (transform.crop === 'center') {
    top = roundHalfEven((imageHeight - height) / 2);
    left = roundHalfEven((imageWidth - width) / 2);
  } else if (transform.crop === 'random') {
    top = randomInt(random, imageHeight - height + 1);
    left = randomInt(random, imageWidth - width + 1);
  } else if (imageHeight !== height || imageWidth !== width) {
    throw new DatasetOptionError('transform.crop', 'none', `a resize to ${height}x${width} (got ${imageHeight}x${imageWidth})`);
  }
  const flip = transform.flipProbability > 0 && random() < transform.flipProbability;
  return { top, left, flip };
}

/**
 * Crops (and flips) a decoded RGB image to the transform's size, keeping 8-bit values — what is held
 * while a batch is being assembled (4x smaller than floats).
 */
export function cropImage(image: DecodedImage, transform: ImageTransform, random: RandomSource): DecodedImage {
  const plan = planCrop(transform, image.height, image.width, random);
  const { height, width } = transform;
  if (plan.top === 0 && plan.left === 0 && !plan.flip && image.width === width && image.height === height) return image;
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = ((plan.top + y) * image.width + plan.left) * 3;
    const dstRow = y * width * 3;
    if (!plan.flip) {
      out.set(image.data.subarray(srcRow, srcRow + width * 3), dstRow);
    } else {
      for (let x = 0; x < width; x++) {
        const s = srcRow + (width - 1 - x) * 3;
        const d = dstRow + x * 3;
        out[d] = image.data[s];
        out[d + 1] = image.data[s + 1];
        out[d + 2] = image.data[s + 2];
      }
    }
  }
  return { data: out, width, height };
}

/**
 * Writes `(pixel / 255 - mean[c]) / std[c]` for a cropped `height x width` RGB image into `out`
 * starting at `offset` (NHWC float32).
 */
export function normalizeInto(image: DecodedImage, transform: ImageTransform, out: Float32Array, offset: number): void {
  const scale = [0, 1, 2].map((c) => 1 / (255 * transform.std[c]));
  const shift = [0, 1, 2].map((c) => transform.mean[c] / transform.std[c]);
  const data = image.data;
  const n = image.width * image.height * 3;
  for (let i = 0; i < n; i += 3) {
    out[offset + i] = data[i] * scale[0] - shift[0];
    out[offset + i + 1] = data[i + 1] * scale[1] - shift[1];
    out[offset + i + 2] = data[i + 2] * scale[2] - shift[2];
  }
}
