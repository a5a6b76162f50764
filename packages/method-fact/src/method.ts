import { defineMethod, matchSites, OptionError, type CreateContext, type MethodInstance, type SiteInfo, type SiteModule, isRoleSelector, MethodNotApplicableError } from '@vpeft/core';
import { factLayout, factWeightOf, sharedFactors, tkCore, ttCore } from './cores';
import { foldFact } from './merge';
import { FACT_DEFAULTS, validateFactOptions, type FactOptions } from './options';
import { factTransform, type FactSiteState } from './transform';

/** The npm package that provides the `fact` method. */
export const FACT_PACKAGE = '@vpeft/method-fact';

/** The model width D: the qkv/proj/fc1 input (or the fc2 output) of a targeted site. */
function widthOf(site: SiteInfo): number {
  return factWeightOf(site) === 'fc2' ? site.outFeatures! : site.inFeatures!;
}

/** The matched ViT block weights, checked for the shapes FacT's shared `U`/`V` need. */
function factTargets(sites: readonly SiteInfo[], options: FactOptions): SiteInfo[] {
  if (!sites.some((site) => factWeightOf(site) !== undefined && site.block !== undefined)) {
    // A CNN (or any backbone without ViT blocks): say why FacT cannot apply, not only which names exist.
    const kinds = [...new Set(sites.map((site) => site.kind))].join('/');
    throw new MethodNotApplicableError(
      'fact',
      'this backbone',
      `FacT factorises the q/k/v/o/fc1/fc2 updates of all transformer blocks with factors shared across them, and it has no such blocks (only ${kinds || 'no'} sites); on a CNN use ssf or lora`,
    );
  }
  const matched = matchSites(sites, options.targets, { kinds: ['linear'], option: 'targets', method: 'fact' });
  let dim: number | undefined;
  for (const site of matched) {
    const weight = factWeightOf(site);
    if (!weight || site.block === undefined || !site.weight) {
      throw new OptionError('targets', site.name, "a ViT block's attn.qkv, attn.proj, mlp.fc1 or mlp.fc2 (FacT factorises the blocks' weights with factors shared across blocks)", 'fact');
    }
    const d = widthOf(site);
    dim ??= d;
    const other = weight === 'fc2' ? site.inFeatures! : site.outFeatures!;
    if (d !== dim && options.targets.every(isRoleSelector)) {
      throw new MethodNotApplicableError('fact', 'this backbone', `FacT shares its factors across blocks of one width, and its blocks have several widths (${dim}, ${d}, ...); choose the blocks of one stage with targets=GLOB`);
    }
    if (d !== dim || other % d !== 0 || (weight === 'qkv' && other !== 3 * d) || (weight === 'proj' && other !== d)) {
      throw new OptionError('targets', site.name, `block weights whose sizes are multiples of one model width (${dim}); ${site.name} is [${site.inFeatures} → ${site.outFeatures}]`, 'fact');
    }
  }
  return matched;
}

/** The number of blocks for Tucker's `P`: the backbone's depth, or one past the last targeted block. */
function depthOf(ctx: CreateContext): number {
  const depth = ctx.backboneConfig.depth;
  return typeof depth === 'number' ? depth : Math.max(...ctx.targets.map((s) => s.block ?? 0)) + 1;
}

function createFact(site: SiteInfo, options: FactOptions, ctx: CreateContext): SiteModule<'linear'> {
  const weight = factWeightOf(site)!;
  const dim = widthOf(site);
  const layout = factLayout(weight, site, dim);
  const shared = sharedFactors(ctx, options, dim, depthOf(ctx));
  const core = options.variant === 'tt' ? ttCore(ctx, weight, layout, options.r) : tkCore(shared, weight, site.block!, layout, options.r);
  const state: FactSiteState = { shared, core, layout, scale: options.scale, dropout: options.dropout };
  return {
    transform: factTransform(state),
    merge: () => foldFact(state, site.weight!, ctx.backbone, 1),
    unmerge: () => foldFact(state, site.weight!, ctx.backbone, -1),
  };
}

/**
 * FacT (Jie & Deng, AAAI 2023, "FacT: Factor-Tuning for Lightweight Adaptation on Vision
 * Transformer"), following JieShibo/PETL-ViT: the updates of every block's q, k, v, proj, fc1 and fc2
 * weights are one tensor factorised with `U` `[D, r]` and `V` `[r, D]` shared across all of them —
 * tensor-train (`'tt'`: a core per weight; 1536r + 144r² parameters on ViT-B/16, 8,448 at r = 4) or
 * Tucker (`'tk'`: a shared core `C` `[r, r, r]` and loadings `P` `[r, 144]`). `V` starts at zero, so
 * the output is unchanged at step 0; `merge()` adds `s·ΔW` to each weight.
 */
export const factMethod = defineMethod<FactOptions>({
  name: 'fact',
  version: '0.1.0',
  description: 'Factor-tuning: tensor-train or Tucker updates of all block weights with shared factors (FacT), mergeable',
  packageName: FACT_PACKAGE,
  category: 'reparameterization',
  defaults: FACT_DEFAULTS,
  validate: validateFactOptions,
  targets: factTargets,
  create: createFact,
  zeroInit: () => true,
});

/** A configured FacT method, e.g. `fact({ variant: 'tt', r: 8, scale: 10 })`. */
export function fact(options: Partial<FactOptions> = {}, instance?: { name?: string }): MethodInstance<FactOptions> {
  return factMethod.configure(options, instance);
}
