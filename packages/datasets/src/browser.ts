/**
 * @vpeft/datasets for browsers (the `browser` export condition): the transforms (the benchmark's VTAB
 * and FGVC recipes, crop and normalisation of decoded RGB) and the seeded random helpers, with no
 * `node:` module and no sharp. A page decodes and resizes with a canvas, then normalises with
 * {@link normalizeInto} as Node's batches do.
 */
export type { DecodedImage, ResizeSpec, ResizeKernel, Rgb } from './decode.js';
export type { ImageTransform, Normalization, TransformTarget, TransformPresetOptions, VtabTransformOptions, FgvcTransformOptions, CropPlan } from './transforms.js';
export { vtabTransform, fgvcTransform, defaultTransform, backboneTransform, planCrop, cropImage, normalizeInto, IMAGENET_MEAN, IMAGENET_STD } from './transforms.js';
export type { RandomSource } from './random.js';
export { mulberry32, mixSeed, permutation, shuffleInPlace, randomInt } from './random.js';
export { DatasetError, DatasetOptionError } from './errors.js';
