import * as tf from '@tensorflow/tfjs-core';
import {
  blockSteps,
  dropPath,
  frozenPrefixLength,
  gelu,
  hashSeed,
  identitySiteRunner,
  initialize,
  layerNorm,
  linear,
  ParameterStore,
  ShapeMismatchError,
  withoutGradient,
  type Backbone,
  type BackboneForwardOptions,
  type SiteInfo,
  type SiteRunner,
  type TokenLayout,
  type TokenSequence,
} from '@vpeft/core';
import { resolveSwinConfig, stageDim, stageResolution, stageWindow, type SwinConfig, type SwinConfigName } from './config';
import { swinParameterSpecs } from './parameters';
import { buildSwinSites } from './sites';
import { mergeWindows, partitionWindows, relativePositionIndex, roll2d, shiftedWindowMask } from './windows';

/** Options for {@link createSwin}. */
export interface CreateSwinOptions {
  /** Seed for the random initialisation (see {@link swinParameterSpecs}). */
  seed?: number;
  /**
   * `'random'` (default): timm's initialisation. `'zeros'`: every parameter zero-filled, for when the
   * weights are assigned next (a checkpoint) or only shapes and counts matter — filling Swin-B's 87M
   * random values takes a minute on wasm.
   */
  initialize?: 'random' | 'zeros';
}

/** Where block `j` of stage `s` sits: its global index and its window geometry. */
interface BlockPlace {
  stage: number;
  index: number;
  global: number;
  window: number;
  shift: number;
  resolution: number;
}

/**
 * A Swin Transformer (v1; Liu et al., 2021) on tfjs-core ops with timm's parameter names
 * (`layers.S.blocks.J.attn.qkv`, `layers.S.downsample.reduction`, ...) and semantics: patch embedding +
 * LayerNorm, window attention with a learned relative position bias, shifted windows (every second
 * block, cyclic shift by half a window, with the attention mask), patch merging between stages (2x2
 * neighbours concatenated, LayerNorm, linear 4C → 2C), final LayerNorm and average pooling. Linear
 * weights are stored `[in, out]`. Input is NHWC float32 of the configured size.
 *
 * Tokens that methods insert (VPT prompts, before or after the patches) take part in every window's
 * attention — expanded to each window with zero relative bias and no mask, then averaged back over the
 * windows — and are carried through patch merging (channels repeated 4x, then the merge's norm and
 * reduction), as the VPT paper's Swin does. The pooled features average the patch tokens only.
 */
export class Swin implements Backbone {
  readonly specificationVersion = 'v1' as const;
  readonly config: SwinConfig;
  readonly parameters = new ParameterStore();
  readonly inputShape: readonly [number, number, number];
  readonly featureDim: number;
  private readonly blocks: BlockPlace[] = [];
  private readonly siteList: SiteInfo[];
  private readonly constants = new Map<string, tf.Tensor>();

  constructor(config: SwinConfig, options: CreateSwinOptions = {}) {
    this.config = config;
    this.inputShape = [config.imageSize, config.imageSize, config.inChannels];
    this.featureDim = stageDim(config, config.depths.length - 1);
    const seed = options.seed ?? 0;
    for (const spec of swinParameterSpecs(config)) {
      const value = options.initialize === 'zeros' ? tf.zeros(spec.shape) : initialize(spec.init, spec.shape, hashSeed(spec.name, seed));
      this.parameters.create(spec.name, value, spec.role, 'backbone', false, spec.place);
    }
    let global = 0;
    config.depths.forEach((depth, s) => {
      const w = stageWindow(config, s);
      const resolution = stageResolution(config, s);
      for (let j = 0; j < depth; j++) {
        // timm: no shift when the window covers the whole grid.
        const shift = j % 2 === 1 && resolution > w ? Math.floor(w / 2) : 0;
        this.blocks.push({ stage: s, index: j, global: global++, window: w, shift, resolution });
      }
    });
    this.siteList = buildSwinSites(config);
  }

  sites(): SiteInfo[] {
    return [...this.siteList];
  }

  forward(images: tf.Tensor4D, options: BackboneForwardOptions = {}): tf.Tensor2D {
    const training = options.training ?? false;
    const sites = options.sites ?? identitySiteRunner;
    const { imageSize, inChannels } = this.config;
    if (images.rank !== 4 || images.shape[1] !== imageSize || images.shape[2] !== imageSize || images.shape[3] !== inChannels) {
      throw new ShapeMismatchError('images', [-1, imageSize, imageSize, inChannels], images.shape, `${this.config.name} input (NHWC)`);
    }
    // Inference: one tidy per block keeps only the running token sequence alive.
    const stage = <T,>(fn: () => T): T => (training ? fn() : (tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T));
    // Training: the blocks before the first one a gradient can reach run off the tape (as in inference).
    const frozen = training ? this.frozenStages(sites) : 0;
    let seq = frozen > 0 ? this.runOffTape(images, frozen, sites) : stage(() => this.embed(images, sites));
    for (let g = Math.max(frozen - 1, 0); g < this.blocks.length; g++) {
      const before = seq;
      seq = stage(() => this.stageStep(this.blocks[g]!, before, sites, training));
      if (!training) before.tokens.dispose();
    }
    const features = stage(() => {
      const [b, , d] = seq.tokens.shape;
      const normed = sites.run<'norm'>('norm', seq.tokens, (x) => this.norm('norm', x), { layout: seq.layout }) as tf.Tensor3D;
      const [gh, gw] = seq.layout.grid;
      const patches = tf.slice(normed, [0, seq.layout.prefix, 0], [b, gh * gw, d]);
      return sites.run<'features'>('features', tf.mean(patches, 1) as tf.Tensor2D, (x) => x);
    });
    if (!training) seq.tokens.dispose();
    return features;
  }

  /** Block `place`, preceded by its stage's patch merging when it is the stage's first block. */
  private stageStep(place: BlockPlace, seq: TokenSequence, sites: SiteRunner, training: boolean): TokenSequence {
    const merged = place.index === 0 && place.stage > 0 ? this.mergePatches(place.stage, seq, sites) : seq;
    const name = `layers.${place.stage}.blocks.${place.index}`;
    return this.block(place, sites.run<'tokens'>(`${name}.tokens`, merged, (s) => s), sites, training);
  }

  /**
   * How many leading steps (0: the embedding, g + 1: block g with its patch merging) no gradient can
   * reach (see `frozenUnits`); 0 when the runner cannot tell. The step after the last block always runs on the tape.
   */
  private frozenStages(sites: SiteRunner): number {
    if (!sites.active) return 0;
    const steps = blockSteps(this.parameters.list(), this.siteList, this.blocks.length);
    return Math.min(frozenPrefixLength(steps, (name) => sites.active!(name)), this.blocks.length + 1);
  }

  /** The first `count` steps as in inference — off the tape, one tidy per step — with training semantics. */
  private runOffTape(images: tf.Tensor4D, count: number, sites: SiteRunner): TokenSequence {
    let layout: TokenLayout | undefined;
    const tokens = withoutGradient(images, () => {
      let seq = tf.tidy(() => this.embed(images, sites) as unknown as tf.TensorContainer) as unknown as TokenSequence;
      for (let g = 0; g < count - 1; g++) {
        const before = seq;
        seq = tf.tidy(() => this.stageStep(this.blocks[g]!, before, sites, true) as unknown as tf.TensorContainer) as unknown as TokenSequence;
        before.tokens.dispose();
      }
      layout = seq.layout;
      return seq.tokens;
    });
    return { tokens, layout: layout! };
  }

  private embed(images: tf.Tensor4D, sites: SiteRunner): TokenSequence {
    const { patchSize: p, inChannels: c, embedDim: d } = this.config;
    const [b, h, w] = images.shape;
    const gh = h / p;
    const gw = w / p;
    const patches = tf.reshape(tf.transpose(tf.reshape(images, [b * gh, p, gw, p * c]), [0, 2, 1, 3]), [b * gh * gw, p * p * c]) as tf.Tensor2D;
    const weight = this.parameters.variable('patch_embed.proj.weight') as tf.Tensor2D;
    const bias = this.parameters.variable('patch_embed.proj.bias') as tf.Tensor1D;
    const projected = sites.run<'linear'>('patch_embed.proj', patches, (x) => linear(x, weight, bias));
    const layout: TokenLayout = { prefix: 0, suffix: 0, grid: [gh, gw] };
    const tokens = tf.reshape(projected, [b, gh * gw, d]) as tf.Tensor3D;
    return { tokens: sites.run<'norm'>('patch_embed.norm', tokens, (x) => this.norm('patch_embed.norm', x), { layout }) as tf.Tensor3D, layout };
  }

  private norm(name: string, x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.parameters.variable(`${name}.weight`) as tf.Tensor1D, this.parameters.variable(`${name}.bias`) as tf.Tensor1D, this.config.layerNormEps);
  }

  private dense(name: string, sites: SiteRunner, x: tf.Tensor2D, layout: TokenLayout): tf.Tensor2D {
    const weight = this.parameters.variable(`${name}.weight`) as tf.Tensor2D;
    const bias = this.parameters.has(`${name}.bias`) ? (this.parameters.variable(`${name}.bias`) as tf.Tensor1D) : undefined;
    return sites.run<'linear'>(name, x, (input) => linear(input, weight, bias), { layout });
  }

  /** A constant built once (relative position index, shifted-window mask), kept out of any tidy. */
  private constant<T extends tf.Tensor>(key: string, make: () => T): T {
    let t = this.constants.get(key);
    if (!t) {
      t = tf.keep(make());
      this.constants.set(key, t);
    }
    return t as T;
  }

  /**
   * Patch merging into stage `s`: each 2x2 neighbourhood concatenated (timm's x0, x1, x2, x3 order:
   * rows then columns offset), LayerNorm, linear 4C → 2C; inserted tokens are repeated 4x along channels.
   */
  private mergePatches(s: number, seq: TokenSequence, sites: SiteRunner): TokenSequence {
    const { tokens, layout } = seq;
    const [b, n, c] = tokens.shape;
    const [res] = layout.grid;
    const half = res / 2;
    const hw = res * res;
    const patches = tf.slice(tokens, [0, layout.prefix, 0], [b, hw, c]);
    // [B·res/2, 2 (row offset), res/2, 2C (column offset, C)] -> [M, 2 (row), 2C] -> [M, 2 (col), 2 (row), C] -> [M, 4C]
    const rows = tf.reshape(tf.transpose(tf.reshape(patches, [b * half, 2, half, 2 * c]), [0, 2, 1, 3]), [b * half * half, 2, 2, c]);
    const grouped = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [b, half * half, 4 * c]);
    const extra = (start: number, count: number) => tf.tile(tf.slice(tokens, [0, start, 0], [b, count, c]), [1, 1, 4]);
    const parts: tf.Tensor[] = [];
    if (layout.prefix > 0) parts.push(extra(0, layout.prefix));
    parts.push(grouped);
    if (layout.suffix > 0) parts.push(extra(layout.prefix + hw, layout.suffix));
    const joined = parts.length === 1 ? grouped : tf.concat(parts, 1);
    const total = n - hw + half * half;
    const newLayout: TokenLayout = { ...layout, grid: [half, half], segments: shiftSegments(layout, hw, half * half) };
    const name = `layers.${s}.downsample`;
    const normed = sites.run<'norm'>(`${name}.norm`, joined, (x) => this.norm(`${name}.norm`, x), { layout: newLayout });
    const reduced = this.dense(`${name}.reduction`, sites, tf.reshape(normed, [b * total, 4 * c]) as tf.Tensor2D, newLayout);
    return { tokens: tf.reshape(reduced, [b, total, 2 * c]) as tf.Tensor3D, layout: newLayout };
  }

  private block(place: BlockPlace, seq: TokenSequence, sites: SiteRunner, training: boolean): TokenSequence {
    const { stage: s, window: w, shift, resolution: res } = place;
    const heads = this.config.numHeads[s]!;
    const prefix = `layers.${s}.blocks.${place.index}`;
    const { layout } = seq;
    const [b, n, c] = seq.tokens.shape;
    const total = this.blocks.length;
    const rate = total > 1 ? (this.config.dropPathRate * place.global) / (total - 1) : this.config.dropPathRate;
    const normalize = (name: string) => (x: tf.Tensor3D) =>
      sites.run<'norm'>(`${prefix}.${name}`, x, (t) => this.norm(`${prefix}.${name}`, t), { layout }) as tf.Tensor3D;

    const attention = (x: tf.Tensor3D): tf.Tensor3D => {
      const normed = normalize('norm1')(x);
      const hw = res * res;
      const extras = layout.prefix + layout.suffix;
      const windowsPerImage = (res / w) ** 2;
      let patches = tf.reshape(tf.slice(normed, [0, layout.prefix, 0], [b, hw, c]), [b, res, res, c]) as tf.Tensor4D;
      if (shift > 0) patches = roll2d(patches, -shift);
      let windows = partitionWindows(patches, w);
      if (extras > 0) {
        // Inserted tokens join every window (VPT's Swin): [B, E, C] -> [B·nW, E, C], before the window's tokens.
        const parts = [];
        if (layout.prefix > 0) parts.push(tf.slice(normed, [0, 0, 0], [b, layout.prefix, c]));
        if (layout.suffix > 0) parts.push(tf.slice(normed, [0, layout.prefix + hw, 0], [b, layout.suffix, c]));
        const ext = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
        const perWindow = tf.reshape(tf.tile(tf.reshape(ext, [b, 1, extras * c]), [1, windowsPerImage, 1]), [b * windowsPerImage, extras, c]);
        windows = tf.concat([perWindow, windows], 1) as tf.Tensor3D;
      }
      const t = extras + w * w;
      const bw = b * windowsPerImage;
      const hd = c / heads;
      const qkv = this.dense(`${prefix}.attn.qkv`, sites, tf.reshape(windows, [bw * t, c]) as tf.Tensor2D, layout);
      const [q, k, v] = tf.split(tf.reshape(qkv, [bw, t, 3 * c]), 3, 2).map((part) =>
        tf.reshape(tf.transpose(tf.reshape(part, [bw, t, heads, hd]), [0, 2, 1, 3]), [bw * heads, t, hd]),
      ) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(hd)), k, false, true);
      const bias = this.attentionBias(place, heads, extras); // [nW or 1, heads, T, T]
      const groups = bias.shape[0];
      const biased = tf.reshape(tf.add(tf.reshape(scores, [bw / groups, groups * heads, t * t]), tf.reshape(bias, [1, groups * heads, t * t])), [bw * heads, t, t]);
      const context = tf.matMul(tf.softmax(biased), v);
      const mergedHeads = tf.reshape(tf.transpose(tf.reshape(context, [bw, heads, t, hd]), [0, 2, 1, 3]), [bw * t, c]) as tf.Tensor2D;
      const out = tf.reshape(this.dense(`${prefix}.attn.proj`, sites, mergedHeads, layout), [bw, t, c]) as tf.Tensor3D;
      let patchOut = mergeWindows(tf.slice(out, [0, extras, 0], [bw, w * w, c]), w, b, res, res);
      if (shift > 0) patchOut = roll2d(patchOut, shift);
      const flat = tf.reshape(patchOut, [b, hw, c]);
      if (extras === 0) return flat as tf.Tensor3D;
      // Each inserted token's outputs over the windows, averaged (VPT's Swin).
      const ext = tf.mean(tf.reshape(tf.slice(out, [0, 0, 0], [bw, extras, c]), [b, windowsPerImage, extras, c]), 1);
      const parts: tf.Tensor[] = [];
      if (layout.prefix > 0) parts.push(tf.slice(ext, [0, 0, 0], [b, layout.prefix, c]));
      parts.push(flat);
      if (layout.suffix > 0) parts.push(tf.slice(ext, [0, layout.prefix, 0], [b, layout.suffix, c]));
      return tf.concat(parts, 1) as tf.Tensor3D;
    };
    const mlp = (x: tf.Tensor3D): tf.Tensor3D => {
      const normed = normalize('norm2')(x);
      const hidden = gelu(this.dense(`${prefix}.mlp.fc1`, sites, tf.reshape(normed, [b * n, c]) as tf.Tensor2D, layout)) as tf.Tensor2D;
      return tf.reshape(this.dense(`${prefix}.mlp.fc2`, sites, hidden, layout), [b, n, c]) as tf.Tensor3D;
    };

    const attnOut = sites.run<'branch'>(`${prefix}.attn`, seq.tokens, attention, { layout, normalize: normalize('norm1') });
    const afterAttn = tf.add(seq.tokens, dropPath(attnOut, rate, training)) as tf.Tensor3D;
    const mlpOut = sites.run<'branch'>(`${prefix}.mlp`, afterAttn, mlp, { layout, normalize: normalize('norm2') });
    return { tokens: tf.add(afterAttn, dropPath(mlpOut, rate, training)) as tf.Tensor3D, layout };
  }

  /**
   * The relative position bias `[heads, w², w²]` gathered from the block's table, plus the shifted-window
   * mask when the block is shifted (`[nW, heads, w², w²]`); rows and columns of inserted tokens are 0.
   */
  private attentionBias(place: BlockPlace, heads: number, extras: number): tf.Tensor4D {
    const { window: w, shift, resolution: res } = place;
    const n = w * w;
    const table = this.parameters.variable(`layers.${place.stage}.blocks.${place.index}.attn.relative_position_bias_table`);
    const index = this.constant(`index.${w}`, () => tf.tensor1d(relativePositionIndex(w), 'int32'));
    let bias: tf.Tensor = tf.transpose(tf.reshape(tf.gather(table, index), [n, n, heads]), [2, 0, 1]);
    if (extras > 0) bias = tf.pad(bias, [[0, 0], [extras, 0], [extras, 0]]);
    const t = extras + n;
    bias = tf.reshape(bias, [1, heads, t, t]);
    if (shift === 0) return bias as tf.Tensor4D;
    const windows = (res / w) ** 2;
    const mask = this.constant(`mask.${res}.${w}.${shift}.${extras}`, () => {
      const m = tf.tensor3d(shiftedWindowMask(res, w, shift), [windows, n, n]);
      return tf.reshape(extras > 0 ? tf.pad(m, [[0, 0], [extras, 0], [extras, 0]]) : m, [windows, 1, t, t]);
    });
    return tf.add(bias, mask) as tf.Tensor4D;
  }

  dispose(): void {
    for (const t of this.constants.values()) t.dispose();
    this.constants.clear();
    this.parameters.dispose();
  }
}

/** Token segments after patch merging: those after the patches move with the patch count. */
function shiftSegments(layout: TokenLayout, before: number, after: number): TokenLayout['segments'] {
  if (!layout.segments) return undefined;
  const end = layout.prefix + before;
  return Object.fromEntries(Object.entries(layout.segments).map(([owner, [start, length]]) => [owner, [start >= end ? start - before + after : start, length] as const]));
}

/** Creates a randomly initialised Swin Transformer from a config name or object. */
export function createSwin(config: SwinConfigName | (Partial<SwinConfig> & { base?: SwinConfigName }), options: CreateSwinOptions = {}): Swin {
  return new Swin(resolveSwinConfig(config), options);
}
