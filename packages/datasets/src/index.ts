/**
 * `@vpeft/datasets`: image-classification data for vpeft on TensorFlow.js — VTAB-1k, FGVC and
 * image-folder loaders, offline MNIST and emoji sets, sharp decoding, the benchmark's VTAB and FGVC
 * transforms, and seeded, prefetching, memory-bounded batches of `tf.Tensor`s.
 */
export type { ImageDataset, ImageSample, ImageSource, RawPixels, SkippedEntry, LoadOptions, PipelineKind } from './dataset.js';
export { classCounts, checkClassCount, describeSource } from './dataset.js';
export type { VtabGroup, VtabTaskInfo, VtabSplit, ParsedLine } from './vtab1k.js';
export { vtab1k, vtabTask, findVtabTask, VTAB1K_TASKS, VTAB1K_SPLITS, parseSplitLine } from './vtab1k.js';
export type { CustomVtabTask } from './vtab1k-custom.js';
export { customVtabTask, vtab1kCustom } from './vtab1k-custom.js';
export type { FgvcDatasetInfo, FgvcSplit } from './fgvc.js';
export { fgvc, fgvcDataset, FGVC_DATASETS, FGVC_SPLITS } from './fgvc.js';
export type { ImageFolderOptions } from './image-folder.js';
export { imageFolder } from './image-folder.js';
export type { MnistOptions } from './mnist.js';
export { mnist } from './mnist.js';
export type { EmojiOptions, EmojiVendor } from './emoji.js';
export { emoji, EMOJI_CLASSES } from './emoji.js';
export type { Vtab1kStyleSplits, SplitSizes } from './splits.js';
export { vtab1kStyleSplit, apportion } from './splits.js';
export type { DecodedImage, DecodeOptions, ResizeSpec, ResizeKernel, Rgb } from './decode.js';
export { decodeImage, shorterSideSize, DEFAULT_BACKGROUND } from './decode.js';
export type { ImageTransform, Normalization, TransformTarget, TransformPresetOptions, VtabTransformOptions, FgvcTransformOptions, CropPlan } from './transforms.js';
export { vtabTransform, fgvcTransform, defaultTransform, backboneTransform, planCrop, cropImage, normalizeInto, IMAGENET_MEAN, IMAGENET_STD } from './transforms.js';
export type { Batch, BatchOptions, BatchStats, BatchIterator } from './batches.js';
export { batches, batchCount, epochOrder } from './batches.js';
export type { RandomSource } from './random.js';
export { mulberry32, mixSeed, permutation, shuffleInPlace, randomInt } from './random.js';
export type { SampleOrigin } from './errors.js';
export {
  DatasetError,
  SplitFormatError,
  MissingImageError,
  LabelOutOfRangeError,
  UnknownTaskError,
  UnknownSplitError,
  MissingDatasetError,
  ClassCountError,
  ImageDecodeError,
  MissingPackageError,
  DatasetOptionError,
  formatOrigin,
} from './errors.js';
export type { FeatureSource } from './feature-source.js';
export { featureSource, sampleIdentity, pipelineKey, transformVariation } from './feature-source.js';
