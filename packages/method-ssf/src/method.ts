import { defineMethod, init, matchSites, OptionError, type AnySiteModule, type CreateContext, type MethodInstance, type SiteInfo } from '@vpeft/core';
import { foldSsf } from './merge';
import { SSF_DEFAULTS, validateSsfOptions, type SsfOptions } from './options';
import { ssfChannels, ssfTransform, type SsfSiteState } from './transform';

/** The npm package that provides the `ssf` method. */
export const SSF_PACKAGE = '@vpeft/method-ssf';

/**
 * The linear, conv and norm sites the options target, checked for what SSF can fold into: the site
 * must declare its weight and bias (SSF's shift becomes part of the bias on merge) and, for a conv,
 * carry no fused activation (a scale after a non-linearity cannot be folded into the kernel).
 */
function ssfTargets(sites: readonly SiteInfo[], options: SsfOptions): SiteInfo[] {
  const matched = matchSites(sites, options.targets, { kinds: ['linear', 'conv', 'norm'], option: 'targets', method: 'ssf' });
  for (const site of matched) {
    const refuse = (allowed: string): never => {
      throw new OptionError('targets', site.name, allowed, 'ssf');
    };
    if (!ssfChannels(site)) refuse('sites that declare their output channels');
    const activation = (site as SiteInfo & { activation?: string }).activation;
    if (activation !== undefined && activation !== 'linear') {
      refuse(`sites without a fused activation (${site.name} applies "${activation}"; SSF after it could not be merged — target the BatchNormalization before it or a linear conv)`);
    }
    if (!site.weight) refuse(`sites with a weight to fold the scale into (${site.name} has none, e.g. a norm without affine scale)`);
    if (!site.bias) {
      refuse(`sites with a bias to fold the shift into (${site.name} has none — on a CNN, target the BatchNormalization that follows a bias-free conv)`);
    }
  }
  return matched;
}

/** Builds gamma ~ N(1, std) and beta ~ N(0, std) over the site's output channels, and the transform. */
function createSsf(site: SiteInfo, options: SsfOptions, ctx: CreateContext): AnySiteModule {
  const channels = ssfChannels(site)!;
  const state: SsfSiteState = {
    site,
    scale: ctx.parameter('scale', [channels], options.std === 0 ? init.ones() : init.normal(1, options.std), 'scale'),
    shift: ctx.parameter('shift', [channels], options.std === 0 ? init.zeros() : init.normal(0, options.std), 'bias'),
  };
  return {
    transform: ssfTransform(state),
    merge: () => foldSsf(state, ctx.backbone, 1),
    unmerge: () => foldSsf(state, ctx.backbone, -1),
  } as AnySiteModule;
}

/**
 * SSF (Lian et al., NeurIPS 2022, "Scaling & Shifting Your Features"): `y = gamma⊙f(x) + beta` per
 * channel after linear, conv and norm layers of a frozen backbone. Initialised as the reference
 * (gamma ~ N(1, 0.02), beta ~ N(0, 0.02)), so the step-0 output differs slightly from the backbone's;
 * `merge()` folds gamma and beta into the preceding layer's weight and bias for zero inference cost.
 */
export const ssfMethod = defineMethod<SsfOptions>({
  name: 'ssf',
  version: '0.1.0',
  description: 'Per-channel scale and shift after linear, conv and norm layers (SSF), mergeable',
  packageName: SSF_PACKAGE,
  category: 'addition',
  defaults: SSF_DEFAULTS,
  validate: validateSsfOptions,
  targets: ssfTargets,
  create: createSsf,
  zeroInit: (options) => options.std === 0,
  identityValue: (name) => (name.endsWith('.scale') ? 1 : name.endsWith('.shift') ? 0 : undefined),
});

/** A configured SSF method, e.g. `ssf()` (the reference placement) or `ssf({ targets: ['conv*_bn'] })`. */
export function ssf(options: Partial<SsfOptions> = {}, instance?: { name?: string }): MethodInstance<SsfOptions> {
  return ssfMethod.configure(options, instance);
}
