import type * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore } from '../params/parameter';
import type { BackboneInput, FrozenOutput, FrozenPartInfo, NoFrozenPart } from './frozen-output';
import type { SiteInfo, SiteRunner } from '../sites/site';

/** A JSON-serialisable description of a backbone; `arch` names its family (`vit`, `layers-model`, ...). */
export interface BackboneConfig {
  readonly arch: string;
  readonly name?: string;
  readonly [key: string]: unknown;
}

/**
 * The per-channel normalisation a backbone's weights expect of its input, as timm's
 * `pretrained_cfg` mean/std: pixels scaled to [0, 1], then `(pixel - mean[c]) / std[c]`, channels RGB.
 * `{ mean: [0, 0, 0], std: [1, 1, 1] }` is plain [0, 1] scaling (e.g. nsfwjs's MobileNetV2).
 */
export interface InputNormalization {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** Options for a backbone forward pass. */
export interface BackboneForwardOptions {
  /** Training mode: drop-path/dropout active, and no per-block tidy (the tape needs intermediates). */
  training?: boolean;
  /** Runs method transforms at sites; defaults to none. */
  sites?: SiteRunner;
}

/**
 * The backbone contract (v1): parameters with timm-style names owned by `backbone`, a list of sites
 * where methods may act, and a forward pass from NHWC float32 images to pre-logits features.
 */
export interface Backbone {
  readonly specificationVersion: 'v1';
  readonly config: BackboneConfig;
  /** Input size the backbone was built for: [height, width, channels]. */
  readonly inputShape: readonly [number, number, number];
  /** Width of the features `forward` returns. */
  readonly featureDim: number;
  /**
   * The input normalisation the weights were trained with, which every caller's preprocessing must
   * apply (the dataset transforms read it). Absent: the benchmark's ImageNet mean/std
   * (`[0.485, 0.456, 0.406]` / `[0.229, 0.224, 0.225]`), as V-PEFT/VPT normalise for ViT and Swin.
   */
  readonly inputNormalization?: InputNormalization;
  readonly parameters: ParameterStore;
  sites(): SiteInfo[];
  /**
   * Images `[B, H, W, C]` → features `[B, featureDim]`. Backbones that implement {@link frozenPart}
   * also take the {@link FrozenOutput} of {@link runFrozenPart} and run the rest of the pass from it.
   */
  forward(images: BackboneInput, options?: BackboneForwardOptions): tf.Tensor2D;
  /**
   * Optional (a feature cache uses it): the leading part of a training pass with these sites that no
   * gradient reaches and whose output is the same every time for the same images, or why there is none.
   */
  frozenPart?(sites: SiteRunner): FrozenPartInfo | NoFrozenPart;
  /** With {@link frozenPart}: that part's output for `images`, as inference computes it (call in a tidy or dispose it). */
  runFrozenPart?(images: tf.Tensor4D, sites: SiteRunner): FrozenOutput;
  /** Frees every variable. */
  dispose(): void;
}
