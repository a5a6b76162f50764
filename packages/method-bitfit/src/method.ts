import { defineMethod, globToRegExp, MethodNotApplicableError, OptionError, type MethodInstance, type Parameter, type SelectContext, type SiteInfo } from '@vpeft/core';
import {
  BITFIT_DEFAULTS,
  LN_TUNE_DEFAULTS,
  PARTIAL_DEFAULTS,
  validatePartialOptions,
  validateRoles,
  type BitFitOptions,
  type LnTuneOptions,
  type PartialOptions,
} from './options';

/** npm package of these methods, for "install X" messages. */
export const BITFIT_PACKAGE = '@vpeft/method-bitfit';

/**
 * BitFit (Ben Zaken et al.): trains every bias — linear/conv biases and normalisation shifts — and
 * the head. Adds no modules, so the output is unchanged at step 0 and "merging" is a no-op.
 */
export const bitfitMethod = defineMethod<BitFitOptions>({
  name: 'bitfit',
  version: '0.1.0',
  packageName: BITFIT_PACKAGE,
  category: 'partial',
  description: 'train every bias (linear, conv, LayerNorm/BatchNorm shift) and the head',
  defaults: BITFIT_DEFAULTS,
  validate: (options) => validateRoles(options.roles, 'bitfit'),
  select: (parameter: Parameter, options) => options.roles.includes(parameter.role),
  zeroInit: () => true,
});

/** LN-tune: trains the normalisation layers' scales and shifts (and the head). */
export const lnTuneMethod = defineMethod<LnTuneOptions>({
  name: 'ln-tune',
  version: '0.1.0',
  packageName: BITFIT_PACKAGE,
  category: 'partial',
  description: 'train the LayerNorm (or BatchNorm) weights and biases and the head',
  defaults: LN_TUNE_DEFAULTS,
  validate: (options) => validateRoles(options.roles, 'ln-tune'),
  select: (parameter: Parameter, options) => options.roles.includes(parameter.role),
  zeroInit: () => true,
});

/** What partial's `lastBlocks` counts: declared blocks, else (a CNN) declared stages; undefined when neither. */
function placeUnits(sites: readonly SiteInfo[]): { key: 'block' | 'stage'; count: number } | undefined {
  for (const key of ['block', 'stage'] as const) {
    const count = sites.reduce((n, site) => (site[key] === undefined ? n : Math.max(n, site[key]! + 1)), 0);
    if (count > 0) return { key, count };
  }
  return undefined;
}

/**
 * Partial-k: trains all parameters of the last k blocks (on a backbone without blocks, such as a CNN,
 * the last k stages — resolution levels), plus any named by glob (and the head).
 */
export const partialMethod = defineMethod<PartialOptions>({
  name: 'partial',
  version: '0.1.0',
  packageName: BITFIT_PACKAGE,
  category: 'partial',
  description: 'train the last k blocks (stages on a CNN) and/or parameters chosen by glob, and the head',
  defaults: PARTIAL_DEFAULTS,
  validate: validatePartialOptions,
  select: (parameter: Parameter, options, ctx: SelectContext) => {
    if (options.include.some((glob) => globToRegExp(glob).test(parameter.name))) return true;
    if (options.lastBlocks === 0) return false;
    // Blocks (or, on a backbone without blocks such as a CNN, stages) from the places the backbone
    // declares on its sites and parameters — no name parsing.
    const place = placeUnits(ctx.sites);
    if (!place) {
      throw new MethodNotApplicableError('partial', String(ctx.backboneConfig.name ?? ctx.backboneConfig.arch), 'it declares neither blocks nor stages to count lastBlocks in; name parameters with include globs');
    }
    if (options.lastBlocks > place.count) throw new OptionError('lastBlocks', options.lastBlocks, `at most the backbone's ${place.key === 'block' ? 'depth' : 'stage count'} (${place.count})`, 'partial');
    const index = parameter[place.key];
    // Role `other` holds non-learned state (BatchNorm moving statistics): never trained.
    return index !== undefined && index >= place.count - options.lastBlocks && parameter.role !== 'other';
  },
  zeroInit: () => true,
});

/** BitFit, configured: `bitfit()`. */
export function bitfit(options?: Partial<BitFitOptions>, instance?: { name?: string }): MethodInstance<BitFitOptions> {
  return bitfitMethod.configure(options, instance);
}

/** LN-tune, configured: `lnTune()`. */
export function lnTune(options?: Partial<LnTuneOptions>, instance?: { name?: string }): MethodInstance<LnTuneOptions> {
  return lnTuneMethod.configure(options, instance);
}

/** Partial-k, configured: `partial({ lastBlocks: 1 })` or `partial({ lastBlocks: 0, include: ['blocks.11.mlp.**'] })`. */
export function partial(options?: Partial<PartialOptions>, instance?: { name?: string }): MethodInstance<PartialOptions> {
  return partialMethod.configure(options, instance);
}
