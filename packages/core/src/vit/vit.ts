import * as tf from '@tensorflow/tfjs-core';
import type { Backbone, BackboneForwardOptions } from '../backbone/backbone';
import { isFrozenOutput, type BackboneInput, type FrozenOutput, type FrozenPartInfo, type NoFrozenPart } from '../backbone/frozen-output';
import { blockSteps, frozenPrefixLength } from '../backbone/frozen-prefix';
import { ShapeMismatchError, VpeftError } from '../errors/errors';
import { hashSeed } from '../init/random';
import { init, initialize, type Initializer } from '../init/initializers';
import { multiHeadAttention, splitQkv } from '../ops/attention';
import { qkvAttention } from '../ops/qkv-attention';
import { gelu, quickGelu } from '../ops/gelu';
import { layerNorm } from '../ops/layer-norm';
import { linear } from '../ops/linear';
import { dropPath } from '../ops/regularization';
import { withoutGradient } from '../ops/without-gradient';
import { ParameterStore, type ParameterRole } from '../params/parameter';
import { identitySiteRunner, type SiteInfo, type SiteRole, type SiteRunner, type TokenLayout, type TokenSequence } from '../sites/site';
import { TapRecorder } from '../sites/tap-recorder';
import { resolveViTConfig, type ViTConfig, type ViTConfigName } from './config';
import { resamplePositionEmbedding } from './resample';

/** Options for {@link createViT}. */
export interface CreateViTOptions {
  /** Seed for the random initialisation (timm's: trunc-normal 0.02 weights, zero biases). */
  seed?: number;
}

/**
 * A Vision Transformer on tfjs-core ops with timm's parameter names and semantics: pre-norm blocks,
 * fused qkv, exact GELU, LayerNorm (eps from the config), CLS token, learned position embedding
 * (resampled bicubically when the input size differs), final norm. Linear weights are stored
 * `[in, out]`; the patch projection is `[P·P·C, D]` in (kh, kw, c) order. Input is NHWC float32.
 */
export class ViT implements Backbone {
  readonly specificationVersion = 'v1' as const;
  readonly config: ViTConfig;
  readonly parameters = new ParameterStore();
  readonly inputShape: readonly [number, number, number];
  readonly featureDim: number;
  private readonly siteList: SiteInfo[];
  private readonly tapNames: string[];
  private keyPrefix: string | undefined;

  constructor(config: ViTConfig, options: CreateViTOptions = {}) {
    this.config = config;
    this.inputShape = [config.imageSize, config.imageSize, config.inChannels];
    this.featureDim = config.embedDim;
    const seed = options.seed ?? 0;
    let block: number | undefined;
    const add = (name: string, shape: number[], initializer: Initializer, role: ParameterRole) =>
      this.parameters.create(name, initialize(initializer, shape, hashSeed(name, seed)), role, 'backbone', false, block === undefined ? {} : { block });
    const { embedDim: d, patchSize: p, inChannels: c, mlpDim: m, depth } = config;
    const weight = init.truncatedNormal(0.02);
    const grid = config.imageSize / p;
    add('patch_embed.proj.weight', [p * p * c, d], init.kaimingUniform(Math.sqrt(5)), 'weight');
    if (config.patchBias) add('patch_embed.proj.bias', [d], init.zeros(), 'bias');
    add('cls_token', [1, 1, d], init.normal(0, 1e-6), 'token');
    if (config.registerTokens > 0) add('reg_token', [1, config.registerTokens, d], init.normal(0, 1e-6), 'token');
    add('pos_embed', [1, grid * grid + positionPrefix(config), d], init.truncatedNormal(0.02), 'embedding');
    if (config.preNorm) {
      add('norm_pre.weight', [d], init.ones(), 'norm-weight');
      add('norm_pre.bias', [d], init.zeros(), 'norm-bias');
    }
    for (let i = 0; i < depth; i++) {
      const b = `blocks.${i}`;
      block = i;
      add(`${b}.norm1.weight`, [d], init.ones(), 'norm-weight');
      add(`${b}.norm1.bias`, [d], init.zeros(), 'norm-bias');
      add(`${b}.attn.qkv.weight`, [d, 3 * d], weight, 'weight');
      if (config.qkvBias) add(`${b}.attn.qkv.bias`, [3 * d], init.zeros(), 'bias');
      add(`${b}.attn.proj.weight`, [d, d], weight, 'weight');
      add(`${b}.attn.proj.bias`, [d], init.zeros(), 'bias');
      add(`${b}.norm2.weight`, [d], init.ones(), 'norm-weight');
      add(`${b}.norm2.bias`, [d], init.zeros(), 'norm-bias');
      add(`${b}.mlp.fc1.weight`, [d, m], weight, 'weight');
      add(`${b}.mlp.fc1.bias`, [m], init.zeros(), 'bias');
      add(`${b}.mlp.fc2.weight`, [m, d], weight, 'weight');
      add(`${b}.mlp.fc2.bias`, [d], init.zeros(), 'bias');
      if (config.layerScale > 0) {
        add(`${b}.ls1.gamma`, [d], init.constant(config.layerScale), 'scale');
        add(`${b}.ls2.gamma`, [d], init.constant(config.layerScale), 'scale');
      }
    }
    block = undefined;
    add('norm.weight', [d], init.ones(), 'norm-weight');
    add('norm.bias', [d], init.zeros(), 'norm-bias');
    this.siteList = buildSites(config);
    this.tapNames = this.siteList.filter((s) => s.kind === 'tap').map((s) => s.name);
  }

  sites(): SiteInfo[] {
    return [...this.siteList];
  }

  forward(input: BackboneInput, options: BackboneForwardOptions = {}): tf.Tensor2D {
    const training = options.training ?? false;
    const sites = options.sites ?? identitySiteRunner;
    const { embedDim: d, depth } = this.config;
    // Inference: one tidy per stage keeps only the running token sequence alive.
    const stage = <T,>(fn: () => T): T => (training ? fn() : (tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T));
    const taps = new TapRecorder(sites, this.tapNames);
    // A frozen part's output (a feature cache) resumes after its stages; training runs the stages before
    // the first one a gradient can reach off the tape (as in inference).
    const resumed = isFrozenOutput(input) ? this.resumeAfterFrozenPart(input, training ? sites : undefined, taps) : undefined;
    const frozen = resumed ? resumed.stages : training ? this.frozenStages(sites) : 0;
    let seq: TokenSequence;
    try {
      seq = resumed ? resumed.seq : frozen > 0 ? this.runOffTape(this.checkImages(input), frozen, sites, taps) : this.embedAndTap(this.checkImages(input), sites, taps, stage);
      for (let i = Math.max(frozen - 1, 0); i < depth; i++) {
        const before = seq;
        seq = stage(() => this.block(i, sites.run<'tokens'>(`blocks.${i}.tokens`, before, (s) => s), sites, training));
        taps.record(`blocks.${i}.output`, seq.tokens, seq.layout);
        if (!training) before.tokens.dispose();
      }
    } catch (error) {
      taps.dispose();
      throw error;
    }
    const features = stage(() => {
      const b = seq.tokens.shape[0];
      const normed = sites.run<'norm'>('norm', seq.tokens, (x) => this.norm('norm', x), { layout: seq.layout }) as tf.Tensor3D;
      const cls = tf.reshape(tf.slice(normed, [0, 0, 0], [b, 1, d]), [b, d]) as tf.Tensor2D;
      taps.run();
      return sites.run<'features'>('features', cls, (x) => x);
    });
    if (!training) seq.tokens.dispose();
    return features;
  }

  private checkImages(input: BackboneInput): tf.Tensor4D {
    const { patchSize: p, inChannels: c } = this.config;
    const images = input as tf.Tensor4D;
    if (images.rank !== 4 || images.shape[3] !== c || images.shape[1] % p !== 0 || images.shape[2] % p !== 0) {
      throw new ShapeMismatchError('images', [-1, this.config.imageSize, this.config.imageSize, c], images.shape, `${this.config.name} input (NHWC, sides multiples of ${p})`);
    }
    return images;
  }

  /** The start of {@link FrozenPartInfo.key}s of this ViT: its config (the weights are the cache's business). */
  private frozenKeyPrefix(): string {
    // Read on every step that resumes from a cached output: serialise the (immutable) config once.
    this.keyPrefix ??= `vit:${JSON.stringify(this.config)}:stages=`;
    return this.keyPrefix;
  }

  /**
   * The frozen part of a training pass with these sites: the embedding and the blocks before the
   * first one a gradient can reach, when that includes at least one block and no drop-path makes
   * their output random.
   */
  frozenPart(sites: SiteRunner): FrozenPartInfo | NoFrozenPart {
    if (!sites.active) return { reason: 'the site runner cannot tell which sites are active' };
    const stages = this.frozenStages(sites);
    if (stages < 2) return { reason: `a method acts in (or trains) ${stages === 0 ? 'the patch embedding' : 'block 0'}, so no block is frozen` };
    if (this.config.dropPathRate > 0) return { reason: `drop-path (rate ${this.config.dropPathRate}) makes the frozen blocks' output random in training` };
    const blocks = stages - 1;
    const description = blocks === this.config.depth ? `the whole ViT up to the final norm (embedding + ${blocks} blocks)` : `the embedding and blocks 0-${blocks - 1} of ${this.config.depth}`;
    return { key: `${this.frozenKeyPrefix()}${stages}`, description };
  }

  /** The output of {@link frozenPart} for `images` (run as in inference; call inside a tidy or dispose it). */
  runFrozenPart(images: tf.Tensor4D, sites: SiteRunner): FrozenOutput {
    const part = this.frozenPart(sites);
    if ('reason' in part) throw new VpeftError(`${this.config.name ?? 'vit'}: no frozen part to run: ${part.reason}`);
    const stages = Number(part.key.slice(this.frozenKeyPrefix().length));
    const checked = this.checkImages(images);
    const taps = new TapRecorder(sites, this.tapNames);
    const seq = this.runOffTape(checked, stages, sites, taps);
    const tensors: Record<string, tf.Tensor> = { tokens: seq.tokens };
    for (const tap of taps.take()) tensors[`tap:${tap.name}`] = tap.value;
    const [gh, gw] = seq.layout.grid ?? [0, 0];
    return { kind: 'frozen-output', key: `${part.key}:grid=${gh}x${gw}`, tensors };
  }

  /** The token sequence (and recorded taps) a {@link FrozenOutput} of this ViT resumes with. */
  private resumeAfterFrozenPart(input: FrozenOutput, trainingSites: SiteRunner | undefined, taps: TapRecorder): { stages: number; seq: TokenSequence } {
    const prefix = this.frozenKeyPrefix();
    const match = input.key.startsWith(prefix) ? /^(\d+):grid=(\d+)x(\d+)$/.exec(input.key.slice(prefix.length)) : null;
    if (!match) throw new VpeftError(`${this.config.name ?? 'vit'}: a frozen output of another backbone or config (key ${input.key.slice(0, 80)}...)`);
    const stages = Number(match[1]);
    if (trainingSites && this.frozenStages(trainingSites) < stages) {
      throw new VpeftError(`${this.config.name ?? 'vit'}: the frozen output covers ${stages - 1} blocks, but a method now acts in (or trains) one of them; recompute it (or turn the feature cache off)`);
    }
    const layout: TokenLayout = { prefix: 1 + this.config.registerTokens, suffix: 0, grid: [Number(match[2]), Number(match[3])] };
    for (const [name, value] of Object.entries(input.tensors)) if (name.startsWith('tap:')) taps.record(name.slice(4), value, layout);
    const tokens = input.tensors.tokens as tf.Tensor3D | undefined;
    if (!tokens) throw new VpeftError(`${this.config.name ?? 'vit'}: the frozen output has no "tokens" tensor`);
    // A copy: the stages below dispose the sequence they replace, and the input stays the caller's.
    return { stages, seq: { tokens: tf.clone(tokens), layout } };
  }

  /**
   * How many leading stages (0: the embedding, i + 1: block i) no gradient can reach (see
   * `frozenUnits`); 0 when the runner cannot tell (no `active`). The stage after the last block always runs on the tape.
   */
  private frozenStages(sites: SiteRunner): number {
    if (!sites.active) return 0;
    const steps = blockSteps(this.parameters.list(), this.siteList, this.config.depth);
    return Math.min(frozenPrefixLength(steps, (name) => sites.active!(name)), this.config.depth + 1);
  }

  /**
   * The first `count` stages as in inference — off the tape, one tidy per stage, so only the running
   * token sequence stays alive — with training semantics (drop-path stays active); the token sequence
   * they return is a constant.
   */
  private runOffTape(images: tf.Tensor4D, count: number, sites: SiteRunner, taps: TapRecorder): TokenSequence {
    let layout: TokenLayout | undefined;
    const tokens = withoutGradient(images, () => {
      const tidy = <T,>(fn: () => T): T => tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
      let seq = this.embedAndTap(images, sites, taps, tidy);
      for (let i = 0; i < count - 1; i++) {
        const before = seq;
        seq = tidy(() => this.block(i, sites.run<'tokens'>(`blocks.${i}.tokens`, before, (x) => x), sites, true));
        taps.record(`blocks.${i}.output`, seq.tokens, seq.layout);
        before.tokens.dispose();
      }
      layout = seq.layout;
      return seq.tokens;
    });
    return { tokens, layout: layout! };
  }

  /** The embedding stage (run by `stage`), recorded at the `embed.output` tap. */
  private embedAndTap(images: tf.Tensor4D, sites: SiteRunner, taps: TapRecorder, stage: <T>(fn: () => T) => T): TokenSequence {
    const seq = stage(() => this.embed(images, sites));
    taps.record('embed.output', seq.tokens, seq.layout);
    return seq;
  }

  private embed(images: tf.Tensor4D, sites: SiteRunner): TokenSequence {
    const { patchSize: p, inChannels: c, embedDim: d } = this.config;
    const [b, h, w] = images.shape;
    const gh = h / p;
    const gw = w / p;
    // [B, gh, P, gw, P*C] -> [B, gh, gw, P, P*C]: patches in (kh, kw, c) order, rank <= 5.
    const patches = tf.reshape(
      tf.transpose(tf.reshape(images, [b * gh, p, gw, p * c]), [0, 2, 1, 3]),
      [b * gh * gw, p * p * c],
    ) as tf.Tensor2D;
    const weight = this.parameters.variable('patch_embed.proj.weight') as tf.Tensor2D;
    const bias = this.config.patchBias ? (this.parameters.variable('patch_embed.proj.bias') as tf.Tensor1D) : undefined;
    const projected = sites.run<'linear'>('patch_embed.proj', patches, (x) => linear(x, weight, bias));
    const tokens = tf.reshape(projected, [b, gh * gw, d]);
    const prefixTokens = [tf.tile(this.parameters.variable('cls_token'), [b, 1, 1])];
    if (this.config.registerTokens > 0) prefixTokens.push(tf.tile(this.parameters.variable('reg_token'), [b, 1, 1]));
    const pos = this.positionEmbedding(gh, gw);
    // timm: the position embedding covers the prefix tokens unless `no_embed_class`.
    const embedded = this.config.noEmbedClass
      ? tf.concat([...prefixTokens, tf.add(tokens, pos)], 1)
      : tf.add(tf.concat([...prefixTokens, tokens], 1), pos);
    const layout: TokenLayout = { prefix: 1 + this.config.registerTokens, suffix: 0, grid: [gh, gw] };
    const normed = this.config.preNorm
      ? sites.run<'norm'>('norm_pre', embedded, (x) => this.norm('norm_pre', x), { layout })
      : embedded;
    return { tokens: normed as tf.Tensor3D, layout };
  }

  /**
   * The position embedding `[1, prefix + gh·gw, D]` (prefix: see {@link positionPrefix}), resampled
   * (bicubic, antialiased as timm) for another grid.
   */
  positionEmbedding(gh: number, gw: number): tf.Tensor3D {
    const pos = this.parameters.variable('pos_embed') as tf.Tensor3D;
    return resamplePositionEmbedding(pos, positionPrefix(this.config), gh, gw);
  }

  private norm(name: string, x: tf.Tensor): tf.Tensor {
    return layerNorm(
      x,
      this.parameters.variable(`${name}.weight`) as tf.Tensor1D,
      this.parameters.variable(`${name}.bias`) as tf.Tensor1D,
      this.config.layerNormEps,
    );
  }

  private dense(name: string, sites: SiteRunner, x: tf.Tensor2D, layout: TokenLayout): tf.Tensor2D {
    const weight = this.parameters.variable(`${name}.weight`) as tf.Tensor2D;
    const bias = this.parameters.has(`${name}.bias`) ? (this.parameters.variable(`${name}.bias`) as tf.Tensor1D) : undefined;
    return sites.run<'linear'>(name, x, (input) => linear(input, weight, bias), { layout });
  }

  private block(i: number, seq: TokenSequence, sites: SiteRunner, training: boolean): TokenSequence {
    const { embedDim: d, numHeads: heads, depth, dropPathRate } = this.config;
    const activation = this.config.activation === 'quick-gelu' ? quickGelu : gelu;
    const scaled = (name: string, x: tf.Tensor3D): tf.Tensor3D =>
      this.config.layerScale > 0 ? (tf.mul(x, this.parameters.variable(`${prefix}.${name}.gamma`)) as tf.Tensor3D) : x;
    const prefix = `blocks.${i}`;
    const { layout } = seq;
    const [b, n] = seq.tokens.shape;
    const rate = depth > 1 ? (dropPathRate * i) / (depth - 1) : dropPathRate;
    const normalize = (name: string) => (x: tf.Tensor3D) =>
      sites.run<'norm'>(`${prefix}.${name}`, x, (t) => this.norm(`${prefix}.${name}`, t), { layout }) as tf.Tensor3D;

    const attention = (x: tf.Tensor3D): tf.Tensor3D => {
      const normed = normalize('norm1')(x);
      const qkv = this.dense(`${prefix}.attn.qkv`, sites, tf.reshape(normed, [b * n, d]), layout);
      const packed = tf.reshape(qkv, [b, n, 3 * d]) as tf.Tensor3D;
      // With no transform at the attention site, attention reads q, k, v in place (fused on wasm).
      const context = sites.active?.(`${prefix}.attn.core`) === false
        ? qkvAttention(packed, heads)
        : sites.run<'attention'>(`${prefix}.attn.core`, splitQkv(packed, heads), multiHeadAttention, { layout });
      return scaled('ls1', tf.reshape(this.dense(`${prefix}.attn.proj`, sites, tf.reshape(context, [b * n, d]), layout), [b, n, d]));
    };
    const mlp = (x: tf.Tensor3D): tf.Tensor3D => {
      const normed = normalize('norm2')(x);
      const hidden = activation(this.dense(`${prefix}.mlp.fc1`, sites, tf.reshape(normed, [b * n, d]), layout)) as tf.Tensor2D;
      return scaled('ls2', tf.reshape(this.dense(`${prefix}.mlp.fc2`, sites, hidden, layout), [b, n, d]));
    };

    const attnOut = sites.run<'branch'>(`${prefix}.attn`, seq.tokens, attention, { layout, normalize: normalize('norm1') });
    const afterAttn = tf.add(seq.tokens, dropPath(attnOut, rate, training)) as tf.Tensor3D;
    const mlpOut = sites.run<'branch'>(`${prefix}.mlp`, afterAttn, mlp, { layout, normalize: normalize('norm2') });
    return { tokens: tf.add(afterAttn, dropPath(mlpOut, rate, training)) as tf.Tensor3D, layout };
  }

  dispose(): void {
    this.parameters.dispose();
  }
}

function buildSites(c: ViTConfig): SiteInfo[] {
  const d = c.embedDim;
  const grid = [c.imageSize / c.patchSize, c.imageSize / c.patchSize] as const;
  const sites: SiteInfo[] = [
    { name: 'patch_embed.proj', kind: 'linear', role: 'embedding', inFeatures: c.patchSize * c.patchSize * c.inChannels, outFeatures: d, weight: 'patch_embed.proj.weight', bias: c.patchBias ? 'patch_embed.proj.bias' : undefined },
    { name: 'embed.output', kind: 'tap', dim: d, grid },
  ];
  if (c.preNorm) sites.push({ name: 'norm_pre', kind: 'norm', role: 'norm', dim: d, weight: 'norm_pre.weight', bias: 'norm_pre.bias' });
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    const linearSite = (name: string, inF: number, outF: number, extra: Partial<SiteInfo> = {}): SiteInfo => ({
      name: `${b}.${name}`, kind: 'linear', role: LINEAR_ROLES[name], block: i, inFeatures: inF, outFeatures: outF,
      weight: `${b}.${name}.weight`, bias: name === 'attn.qkv' && !c.qkvBias ? undefined : `${b}.${name}.bias`, ...extra,
    });
    const normSite = (name: string): SiteInfo => ({ name: `${b}.${name}`, kind: 'norm', role: 'norm', block: i, dim: d, weight: `${b}.${name}.weight`, bias: `${b}.${name}.bias` });
    sites.push(
      { name: `${b}.tokens`, kind: 'tokens', block: i, dim: d, grid },
      { name: `${b}.attn`, kind: 'branch', block: i, dim: d, branch: 'attn' },
      normSite('norm1'),
      linearSite('attn.qkv', d, 3 * d, { slices: { q: [0, d], k: [d, 2 * d], v: [2 * d, 3 * d] } }),
      { name: `${b}.attn.core`, kind: 'attention', role: 'attention.core', block: i, dim: d, heads: c.numHeads },
      linearSite('attn.proj', d, d),
      { name: `${b}.mlp`, kind: 'branch', block: i, dim: d, branch: 'mlp' },
      normSite('norm2'),
      linearSite('mlp.fc1', d, c.mlpDim),
      linearSite('mlp.fc2', c.mlpDim, d),
      { name: `${b}.output`, kind: 'tap', block: i, dim: d, grid },
    );
  }
  sites.push(
    { name: 'norm', kind: 'norm', role: 'norm', dim: d, weight: 'norm.weight', bias: 'norm.bias' },
    { name: 'features', kind: 'features', role: 'head-input', dim: d },
  );
  return sites;
}

/** The roles of a transformer block's linear sites (timm names), shared with other transformer backbones. */
export const LINEAR_ROLES: Readonly<Record<string, SiteRole>> = {
  'attn.qkv': 'attention.qkv',
  'attn.proj': 'attention.out',
  'mlp.fc1': 'mlp.in',
  'mlp.fc2': 'mlp.out',
};

/** How many leading entries of `pos_embed` belong to prefix tokens: none with `noEmbedClass`, else CLS + registers. */
export function positionPrefix(c: ViTConfig): number {
  return c.noEmbedClass ? 0 : 1 + c.registerTokens;
}

/** Creates a randomly initialised ViT from a config name or object. */
export function createViT(config: ViTConfigName | (Partial<ViTConfig> & { base?: ViTConfigName }), options: CreateViTOptions = {}): ViT {
  return new ViT(resolveViTConfig(config), options);
}
