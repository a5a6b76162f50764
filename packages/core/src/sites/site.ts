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
 * - `attention`: the core of a multi-head attention, `softmax(q·kᵀ·scale)·v`; input the heads' queries,
 *   keys and values ({@link AttentionInputs}), output the heads' merged context `[B, N, D]` (before the
 *   output projection). A method may extend or change k and v before `next` (prefix tuning:
 *   `next({ q, k: [P_k; k], v: [P_v; v] })`); the key count may then differ from the query count.
 * - `tap`: a read-only view of an intermediate activation (a block's output) for side networks
 *   (Ladder Side-Tuning) that read a frozen backbone without backpropagating through it: tokens
 *   `[B, N, D]` or an NHWC map. A backbone that declares tap sites promises:
 *   - detached: the value a tap transform receives carries no gradient back into the backbone;
 *   - read-only: what a tap transform returns is ignored, the backbone's stream goes on unchanged;
 *   - order and scope: active tap sites run right before `features` (after every other site), in
 *     declaration order, in the scope of `features` (on the gradient tape in training), so what a
 *     transform computes there and leaves in `ctx.scratch` survives until `features`;
 *   - no tape: a module at a tap site does not put the backbone on the gradient tape; when nothing
 *     else acts inside the backbone, training runs all of it as inference does.
 */
export type SiteKind = 'linear' | 'conv' | 'norm' | 'tokens' | 'branch' | 'features' | 'attention' | 'tap';

/**
 * What a site does in its backbone, declared by the backbone so methods can choose sites by role
 * rather than by a family's layer names (as Hugging Face PEFT's per-model target modules do):
 * - `attention.qkv`: the (fused) query/key/value projection; `attention.out`: the attention output projection;
 * - `attention.core`: the attention itself (`attention` sites);
 * - `mlp.in` / `mlp.out`: the MLP's expanding and contracting linear layers; `dense`: another linear layer;
 * - `conv.pointwise` (1x1, groups 1), `conv.spatial` (kxk, k > 1, groups 1), `conv.depthwise` (groups = channels);
 * - `norm`: a LayerNorm or BatchNorm; `embedding`: the patch (stem) projection; `downsample`: a patch
 *   merging or other reduction between stages; `head-input`: the pre-logits features.
 */
export type SiteRole =
  | 'attention.qkv'
  | 'attention.out'
  | 'attention.core'
  | 'mlp.in'
  | 'mlp.out'
  | 'dense'
  | 'conv.pointwise'
  | 'conv.spatial'
  | 'conv.depthwise'
  | 'norm'
  | 'embedding'
  | 'downsample'
  | 'head-input';

/** Every {@link SiteRole}, for messages and validation. */
export const SITE_ROLES: readonly SiteRole[] = [
  'attention.qkv', 'attention.out', 'attention.core', 'mlp.in', 'mlp.out', 'dense',
  'conv.pointwise', 'conv.spatial', 'conv.depthwise', 'norm', 'embedding', 'downsample', 'head-input',
];

/** The role of a conv site from its kernel and groups: depthwise, pointwise (1x1) or spatial (kxk). */
export function convRole(kernelSize: readonly [number, number], groups: number, inFeatures: number): SiteRole {
  if (groups > 1 && groups === inFeatures) return 'conv.depthwise';
  return kernelSize[0] === 1 && kernelSize[1] === 1 ? 'conv.pointwise' : 'conv.spatial';
}

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

/**
 * The input of an `attention` site: per-head queries, keys and values `[B, heads, tokens, headDim]`
 * (PyTorch's layout). Queries keep the token sequence's layout (`ctx.layout`); keys and values may be
 * longer once a method prepends its own (their count is `k.shape[2]`, equal for k and v).
 */
export interface AttentionInputs {
  readonly q: tf.Tensor4D;
  readonly k: tf.Tensor4D;
  readonly v: tf.Tensor4D;
}

/** The value type entering a site of each kind (what a transform and `next` receive). */
export interface SiteValueMap {
  linear: tf.Tensor2D;
  conv: tf.Tensor4D;
  norm: tf.Tensor;
  tokens: TokenSequence;
  branch: tf.Tensor3D;
  features: tf.Tensor2D;
  attention: AttentionInputs;
  tap: tf.Tensor;
}

/**
 * The value type leaving a site of each kind (what a transform and `next` return): the input type,
 * except at `attention` sites, which turn q, k, v into the merged context `[B, N, D]`.
 */
export type SiteOutputMap = Omit<SiteValueMap, 'attention'> & { attention: tf.Tensor3D };

/** A point of a backbone where a method may act, with the shapes a method needs to build itself. */
export interface SiteInfo {
  /** timm-style dotted name, e.g. `blocks.3.attn.qkv`, `blocks.3.mlp`, `blocks.0.tokens`, `features`. */
  readonly name: string;
  readonly kind: SiteKind;
  /** What the site does in the backbone ({@link SiteRole}); methods' defaults choose sites by it. */
  readonly role?: SiteRole;
  /**
   * The index of the block (forward order, over the whole backbone) whose step runs this site;
   * undefined outside the blocks. Same numbering as a parameter's `block` (`ParameterPlace`).
   */
  readonly block?: number;
  /** The stage (resolution level) of a hierarchical backbone (Swin, a CNN): 0 first. */
  readonly stage?: number;
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
  /**
   * `conv`/`linear`: a non-linear activation fused into the site's op (Keras' `activation: 'relu'`),
   * applied before the site's output; absent when the op is linear. An additive update after such an
   * op is not a low-rank update of the weight, so weight-delta methods (LoRA) refuse these sites.
   */
  readonly activation?: string;
  /** `branch`: which branch of the block. */
  readonly branch?: 'attn' | 'mlp';
  /** `tokens`: the patch grid of the backbone's configured input size. */
  readonly grid?: readonly [number, number];
  /** `attention`: the number of heads (`dim / heads` is the head width; scores are scaled by its inverse square root). */
  readonly heads?: number;
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
  /**
   * Scratch space of one forward pass, shared by every transform of that pass (fresh for each pass):
   * for a method whose modules at several sites cooperate, e.g. a side network that advances its
   * state at each `tap` site and reads it at `features`. Key entries by the owner's name.
   */
  readonly scratch?: Map<string, unknown>;
}

/** Runs what comes after a transform: the original op, or the next transform in the chain. */
export type Next<K extends SiteKind> = (input: SiteValueMap[K]) => SiteOutputMap[K];

/**
 * Middleware at a site: `(input, next, ctx) => output`. LoRA adds a low-rank term to `next(x)`,
 * a sequential adapter transforms `next(x)`, a parallel adapter adds a branch beside `next`,
 * VPT changes the token sequence before `next`.
 */
export type Transform<K extends SiteKind = SiteKind> = (
  input: SiteValueMap[K],
  next: Next<K>,
  ctx: TransformContext,
) => SiteOutputMap[K];

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
  ): SiteOutputMap[K];
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
