import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, init, matchSites, OptionError, type AnySiteModule, type CreateContext, type MethodInstance, type SiteInfo, MethodNotApplicableError } from '@vpeft/core';
import { SIDE_DEFAULTS, validateSideOptions, type SideOptions } from './options';
import type { LinearParams, NormParams, SideBlockParams } from './side-network';
import { fuseSideTransform, ladderRungTransform, openLadderTransform } from './transform';

/** npm package of `side`, for "install X" messages. */
export const SIDE_PACKAGE = '@vpeft/method-side';

/** The side network's width `D / r` (D the `features` site's width). */
function sideWidth(targets: readonly SiteInfo[], options: SideOptions): number {
  return targets.find((s) => s.kind === 'features')!.dim! / options.reduction;
}

/** Side attention heads: the option, or the backbone's `numHeads` when it divides the side width, else 1. */
function sideHeads(width: number, options: SideOptions, backboneHeads: unknown): number {
  if (options.heads > 0) return options.heads;
  return typeof backboneHeads === 'number' && width % backboneHeads === 0 ? backboneHeads : 1;
}

/** The tap sites the options select (in the backbone's order), then `features`, checked for widths. */
function sideTargets(sites: readonly SiteInfo[], options: SideOptions): SiteInfo[] {
  if (!sites.some((s) => s.kind === 'tap')) {
    throw new MethodNotApplicableError('side', 'this backbone', 'a side network reads the detached activations a backbone offers as tap sites, and it declares none');
  }
  const taps = matchSites(sites, options.taps, { kinds: ['tap'], option: 'taps', method: 'side' });
  const features = sites.find((s) => s.kind === 'features');
  if (!features?.dim) throw new OptionError('taps', options.taps, 'a backbone with a features site that declares its width', 'side');
  if (features.dim % options.reduction !== 0) {
    throw new OptionError('reduction', options.reduction, `a divisor of the feature width ${features.dim}`, 'side');
  }
  const width = features.dim / options.reduction;
  if (options.heads > 0 && width % options.heads !== 0) throw new OptionError('heads', options.heads, `a divisor of the side width ${width}`, 'side');
  for (const tap of taps) if (!tap.dim) throw new OptionError('taps', tap.name, 'tap sites that declare their width (dim)', 'side');
  return [...taps, features];
}

function linearParams(ctx: CreateContext, name: string, inputs: number, outputs: number): LinearParams {
  return { weight: ctx.parameter(`${name}.weight`, [inputs, outputs], init.truncatedNormal(0.02), 'weight'), bias: ctx.parameter(`${name}.bias`, [outputs], init.zeros(), 'bias') };
}

function normParams(ctx: CreateContext, name: string, width: number): NormParams {
  return { weight: ctx.parameter(`${name}.weight`, [width], init.ones(), 'norm-weight'), bias: ctx.parameter(`${name}.bias`, [width], init.zeros(), 'norm-bias') };
}

function gateParam(ctx: CreateContext, options: SideOptions): tf.Variable {
  return ctx.parameter('gate', [1], init.constant(options.gateAlpha), 'other');
}

/**
 * The module at each target: the first tap opens the ladder (a down-projection), every later tap is a
 * rung (down-projection, gate, side block), and `features` ends it (norm, up-projection, fusion gate).
 */
function createSide(site: SiteInfo, options: SideOptions, ctx: CreateContext): AnySiteModule {
  const width = sideWidth(ctx.targets, options);
  const { owner } = ctx;
  if (site.kind === 'features') {
    const fusion = options.fusion === 'gate' ? { alpha: gateParam(ctx, options), temperature: options.gateTemperature } : undefined;
    return { transform: fuseSideTransform(owner, normParams(ctx, 'norm', width), linearParams(ctx, 'upsample', width, site.dim!), fusion) };
  }
  const down = linearParams(ctx, 'downsample', site.dim!, width);
  const first = ctx.targets.find((s) => s.kind === 'tap')!;
  if (site.name === first.name) return { transform: openLadderTransform(owner, down) };
  const block: SideBlockParams = {
    ...(options.block === 'transformer'
      ? { attention: { norm: normParams(ctx, 'block.norm1', width), qkv: linearParams(ctx, 'block.attn.qkv', width, 3 * width), proj: linearParams(ctx, 'block.attn.proj', width, width), heads: sideHeads(width, options, ctx.backboneConfig.numHeads) } }
      : {}),
    norm: normParams(ctx, 'block.norm2', width),
    fc1: linearParams(ctx, 'block.mlp.fc1', width, 4 * width),
    fc2: linearParams(ctx, 'block.mlp.fc2', 4 * width, width),
  };
  return { transform: ladderRungTransform(owner, down, gateParam(ctx, options), options.gateTemperature, block) };
}

/**
 * Ladder Side-Tuning (Sung, Cho & Bansal, NeurIPS 2022): a side network `D / r` wide reads the
 * frozen backbone's taps — `h = down₀(tap₀)`, then per tap `h = block(g·h + (1 − g)·downᵢ(tapᵢ))`
 * with learned gates `g = sigmoid(α/T)` — and its pooled, up-projected output is fused with the
 * backbone's features for the head. Taps are detached, so no gradient enters the backbone and
 * training runs the backbone as inference does (nothing of it kept for backprop). Not an identity
 * at step 0, not mergeable.
 */
export const sideMethod = defineMethod<SideOptions>({
  name: 'side',
  version: '0.1.0',
  packageName: SIDE_PACKAGE,
  category: 'addition',
  description: 'Ladder Side-Tuning: a reduced-width side network over the frozen backbone\'s taps, gated fusion, no backprop through the backbone',
  defaults: SIDE_DEFAULTS,
  validate: validateSideOptions,
  targets: sideTargets,
  create: createSide,
  zeroInit: () => false,
});

/** Ladder Side-Tuning, configured: `side({ reduction: 8 })`, `side({ block: 'mlp', fusion: 'replace' })`. */
export function side(options?: Partial<SideOptions>, instance?: { name?: string }): MethodInstance<SideOptions> {
  return sideMethod.configure(options, instance);
}
