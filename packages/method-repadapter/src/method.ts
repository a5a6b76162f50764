import { defineMethod, init, matchSites, OptionError, type CreateContext, type MethodInstance, type SiteInfo, type SiteModule } from '@vpeft/core';
import { foldRepAdapter, unfoldRepAdapter, type RepAdapterFold } from './merge';
import { REPADAPTER_DEFAULTS, validateRepAdapterOptions, type RepAdapterOptions } from './options';
import { repAdapterTransform, type RepAdapterState } from './transform';

/** The npm package that provides the `repadapter` method. */
export const REPADAPTER_PACKAGE = '@vpeft/method-repadapter';

/** The matched linear sites, checked: a weight and bias to fold into, an input width the groups divide. */
function repAdapterTargets(sites: readonly SiteInfo[], options: RepAdapterOptions): SiteInfo[] {
  const matched = matchSites(sites, options.targets, { kinds: ['linear'], option: 'targets', method: 'repadapter' });
  for (const site of matched) {
    if (!site.weight || !site.bias || !site.inFeatures) {
      throw new OptionError('targets', site.name, `linear sites with a weight and a bias to fold the adapter into (${site.name} has ${site.bias ? 'no weight' : 'no bias'})`, 'repadapter');
    }
    if (site.inFeatures % options.groups !== 0) {
      throw new OptionError('groups', options.groups, `a divisor of ${site.name}'s input width ${site.inFeatures}`, 'repadapter');
    }
  }
  return matched;
}

function createRepAdapter(site: SiteInfo, options: RepAdapterOptions, ctx: CreateContext): SiteModule<'linear'> {
  const d = site.inFeatures!;
  const { hidden, groups } = options;
  const state: RepAdapterState = {
    // conv_A: xavier-uniform over [h, D] (fan sum D + h, symmetric in the layout), bias zero.
    down: ctx.parameter('conv_A.weight', [d, hidden], init.xavierUniform(), 'weight'),
    downBias: ctx.parameter('conv_A.bias', [hidden], init.zeros(), 'bias'),
    // conv_B (groups g): zeros, so the adapter starts as the identity.
    up: ctx.parameter('conv_B.weight', [groups, hidden / groups, d / groups], init.zeros(), 'weight'),
    upBias: ctx.parameter('conv_B.bias', [d], init.zeros(), 'bias'),
    scale: options.scale,
    dropout: options.dropout,
  };
  let fold: RepAdapterFold | undefined;
  return {
    transform: repAdapterTransform(state),
    merge: () => {
      fold = foldRepAdapter(state, site, ctx.backbone);
    },
    unmerge: () => {
      if (fold) unfoldRepAdapter(site, ctx.backbone, fold);
      fold = undefined;
    },
  };
}

/**
 * RepAdapter (Luo et al., 2023, "Towards Efficient Visual Adaption via Structural
 * Re-parameterization"), following luogen1996/RepAdapter: a linear adapter
 * `x + s·(B(dropout(A x + a)) + b)` with a grouped up projection, in front of every block's qkv and
 * fc1 (after norm1/norm2). It has no non-linearity, so `merge()` folds it exactly into the weight and
 * bias of the linear layer after it (the reference's `reparameterize`): zero inference cost. `B`
 * starts at zero, so the output is unchanged at step 0.
 */
export const repAdapterMethod = defineMethod<RepAdapterOptions>({
  name: 'repadapter',
  version: '0.1.0',
  description: 'Re-parameterisable linear adapter with a grouped up projection before qkv and fc1 (RepAdapter), mergeable',
  packageName: REPADAPTER_PACKAGE,
  category: 'addition',
  defaults: REPADAPTER_DEFAULTS,
  validate: validateRepAdapterOptions,
  targets: repAdapterTargets,
  create: createRepAdapter,
  zeroInit: () => true,
});

/** A configured RepAdapter, e.g. `repAdapter()` (repblock) or `repAdapter({ targets: ['blocks.*.attn.qkv'] })` (repattn). */
export function repAdapter(options: Partial<RepAdapterOptions> = {}, instance?: { name?: string }): MethodInstance<RepAdapterOptions> {
  return repAdapterMethod.configure(options, instance);
}
