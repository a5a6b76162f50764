import type * as tf from '@tensorflow/tfjs-core';

/**
 * The kinds of points in a backbone where a method may act.
 * - `linear`: a dense layer; input `[rows, in]`, output `[rows, out]`.
 * - `conv`: a 2-D convolution; input/output NHWC.
 * - `norm`: a normalisation layer; input/output `[B, N, D]` (ViT) or NHWC (CNN).
 * - `tokens`: the token sequence entering a block, with its layout.
 * - `branch`: a residual branch (attn or mlp of a block); input is the residual stream `[B, N, D]`,
 *   `next` computes the branch (norm included), the output is what is added back to the stream.
 * - `features`: the pre-logits features `[B, D]`.
 */
export type SiteKind = 'linear' | 'conv' | 'norm' | 'tokens' | 'branch' | 'features';

/** Where the patch tokens sit in a token sequence: `[prefix..., patches (grid), suffix...]`. */
export interface TokenLayout {
  /** Tokens before the patches (CLS, prepended prompts). */
  prefix: number;
  /** Tokens after the patches (appended prompts). */
  suffix: number;
  /** The patch grid, rows x columns. */
  grid: readonly [number, number];
  /**
   * Token segments inserted by methods, by owner: `[start, length]` in the sequence. Kept current by
   * {@link insertTokens}, so e.g. deep prompts find their positions in every block.
   */
  segments?: Readonly<Record<string, readonly [number, number]>>;
}

/** The value at a `tokens` site: the sequence and where its parts are. */
export interface TokenSequence {
  tokens: tf.Tensor3D;
  layout: TokenLayout;
}

/** The value type flowing through a site of each kind. */
export interface SiteValueMap {
  linear: tf.Tensor2D;
  conv: tf.Tensor4D;
  norm: tf.Tensor;
  tokens: TokenSequence;
  branch: tf.Tensor3D;
  features: tf.Tensor2D;
}

/** A point of a backbone where a method may act, with the shapes a method needs to build itself. */
export interface SiteInfo {
  /** timm-style dotted name, e.g. `blocks.3.attn.qkv`, `blocks.3.mlp`, `blocks.0.tokens`, `features`. */
  readonly name: string;
  readonly kind: SiteKind;
  /** The block index for sites inside a block. */
  readonly block?: number;
  /** `linear`/`conv`: input and output features (channels). */
  readonly inFeatures?: number;
  readonly outFeatures?: number;
  /** `norm`/`tokens`/`branch`/`features`: the channel (embedding) dimension. */
  readonly dim?: number;
  /** Base parameters at this site (linear/conv/norm): their names in the backbone's store. */
  readonly weight?: string;
  readonly bias?: string;
  /** Fused outputs of a linear site: output ranges by name, e.g. `{ q: [0, 768], k: [768, 1536], v: [1536, 2304] }`. */
  readonly slices?: Readonly<Record<string, readonly [number, number]>>;
  /** `conv`: kernel size, strides, padding and groups (depthwise when groups = inFeatures). */
  readonly kernelSize?: readonly [number, number];
  readonly strides?: readonly [number, number];
  readonly padding?: 'same' | 'valid';
  readonly groups?: number;
  /** `branch`: which branch of the block. */
  readonly branch?: 'attn' | 'mlp';
  /** `tokens`: the patch grid of the backbone's configured input size. */
  readonly grid?: readonly [number, number];
}

/** Runtime information handed to every transform call. */
export interface TransformContext {
  readonly site: SiteInfo;
  /** True inside a training forward (dropout, drop-path active). */
  readonly training: boolean;
  /** The token layout of the sequence the site belongs to (ViT sites inside blocks and tokens sites). */
  readonly layout?: TokenLayout;
  /**
   * `branch` sites: applies the branch's own pre-norm (with any norm-site transforms) to the
   * residual stream — for bypasses that, like Convpass, read the normalised input.
   */
  readonly normalize?: (x: tf.Tensor3D) => tf.Tensor3D;
}

/** Runs what comes after a transform: the original op, or the next transform in the chain. */
export type Next<K extends SiteKind> = (input: SiteValueMap[K]) => SiteValueMap[K];

/**
 * Middleware at a site: `(input, next, ctx) => output`. LoRA adds a low-rank term to `next(x)`,
 * a sequential adapter transforms `next(x)`, a parallel adapter adds a branch beside `next`,
 * VPT changes the token sequence before `next`.
 */
export type Transform<K extends SiteKind = SiteKind> = (
  input: SiteValueMap[K],
  next: Next<K>,
  ctx: TransformContext,
) => SiteValueMap[K];

/**
 * How a backbone runs a site: applies the transforms registered there (outermost first) around
 * `op`, the original computation. A backbone calls it at every site it declares.
 */
export interface SiteRunner {
  run<K extends SiteKind>(
    site: string,
    input: SiteValueMap[K],
    op: Next<K>,
    extra?: Pick<TransformContext, 'layout' | 'normalize'>,
  ): SiteValueMap[K];
  /**
   * Whether `run` does anything at `site` besides `op` (a transform is attached and not merged).
   * Optional: a backbone may use it to run a frozen part that no transform and no trainable
   * parameter touches off the gradient tape; without it, every site counts as active.
   */
  active?(site: string): boolean;
}

/** A runner with no transforms: the plain backbone. */
export const identitySiteRunner: SiteRunner = {
  run: (_site, input, op) => op(input),
  active: () => false,
};
