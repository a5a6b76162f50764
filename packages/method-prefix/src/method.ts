import { defineMethod, init, matchSites, OptionError, type AnySiteModule, type CreateContext, type MethodInstance, type SiteInfo } from '@vpeft/core';
import { PREFIX_DEFAULTS, validatePrefixOptions, type PrefixOptions } from './options';
import { prefixTransform, type PrefixSource } from './transform';

/** npm package of `prefix`, for "install X" messages. */
export const PREFIX_PACKAGE = '@vpeft/method-prefix';

/** The attention sites the options target, checked for a width the heads divide. */
function prefixTargets(sites: readonly SiteInfo[], options: PrefixOptions): SiteInfo[] {
  const matched = matchSites(sites, options.targets, { kinds: ['attention'], option: 'targets', method: 'prefix' });
  for (const site of matched) {
    if (!site.dim || !site.heads || site.dim % site.heads !== 0) {
      throw new OptionError('targets', site.name, 'attention sites that declare dim and heads (dim divisible by heads)', 'prefix');
    }
  }
  const dims = new Set(matched.map((s) => s.dim));
  if (options.projection && dims.size > 1) {
    throw new OptionError('projection', true, `false for attention sites of different widths (${[...dims].join(', ')}): the MLP's embedding is shared`, 'prefix');
  }
  return matched;
}

/** Builds a layer's prefixes: its own keys and values, or its block of the shared MLP's output layer. */
function createPrefix(site: SiteInfo, options: PrefixOptions, ctx: CreateContext): AnySiteModule {
  const { tokens: p, hidden: h, initStd } = options;
  const d = site.dim!;
  const prefixInit = init.truncatedNormal(initStd);
  let source: PrefixSource;
  if (!options.projection) {
    source = { kind: 'direct', key: ctx.parameter('key', [p, d], prefixInit, 'token'), value: ctx.parameter('value', [p, d], prefixInit, 'token') };
  } else {
    // PyTorch nn.Linear's initialisation: kaiming-uniform(a = √5) weights, uniform(±1/√fan_in) biases.
    const shared = {
      embedding: ctx.sharedParameter('embedding', [p, d], prefixInit, 'token'),
      fc1Weight: ctx.sharedParameter('mlp.fc1.weight', [d, h], init.kaimingUniform(Math.sqrt(5)), 'weight'),
      fc1Bias: ctx.sharedParameter('mlp.fc1.bias', [h], init.uniform(-1 / Math.sqrt(d), 1 / Math.sqrt(d)), 'bias'),
    };
    const layer = {
      fc2Weight: ctx.parameter('mlp.fc2.weight', [h, 2 * d], init.kaimingUniform(Math.sqrt(5)), 'weight'),
      fc2Bias: ctx.parameter('mlp.fc2.bias', [2 * d], init.uniform(-1 / Math.sqrt(h), 1 / Math.sqrt(h)), 'bias'),
    };
    source = { kind: 'projection', shared, layer };
  }
  return { transform: prefixTransform(source) };
}

/**
 * Prefix tuning (Li & Liang, 2021): p learnable keys and values prepended in every targeted attention
 * layer, `softmax(q·[P_k; k]ᵀ/√hd)·[P_v; v]`; 2·L·p·D parameters. Optionally reparameterised through
 * an MLP while training (fold it afterwards with `foldPrefixProjection`). Not an identity at step 0 —
 * each query spends part of its attention on the prefixes — and not mergeable into the weights.
 */
export const prefixMethod = defineMethod<PrefixOptions>({
  name: 'prefix',
  version: '0.1.0',
  packageName: PREFIX_PACKAGE,
  category: 'addition',
  description: 'learnable key/value prefixes in every attention layer (prefix tuning), optional reparameterisation MLP',
  defaults: PREFIX_DEFAULTS,
  validate: validatePrefixOptions,
  targets: prefixTargets,
  create: createPrefix,
  zeroInit: () => false,
});

/** Prefix tuning, configured: `prefix({ tokens: 10 })`, `prefix({ tokens: 10, projection: true })`. */
export function prefix(options?: Partial<PrefixOptions>, instance?: { name?: string }): MethodInstance<PrefixOptions> {
  return prefixMethod.configure(options, instance);
}
