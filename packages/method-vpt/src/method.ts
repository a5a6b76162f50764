import { defineMethod, init, OptionError, type MethodInstance, MethodNotApplicableError } from '@vpeft/core';
import { validateVptOptions, VPT_DEFAULTS, type VptOptions } from './options';
import { promptTransform } from './transform';

/** npm package of `vpt`, for "install X" messages. */
export const VPT_PACKAGE = '@vpeft/method-vpt';

/**
 * Visual Prompt Tuning (Jia et al., 2022): p learnable tokens per prompted layer. Shallow: inserted once
 * before block 0; deep: before every block, each block with its own prompts. Not zero-initialised
 * (prompts change the output) and not mergeable.
 */
export const vptMethod = defineMethod<VptOptions>({
  name: 'vpt',
  version: '0.1.0',
  packageName: VPT_PACKAGE,
  category: 'addition',
  description: 'learnable prompt tokens inserted into the token sequence (shallow or deep)',
  defaults: VPT_DEFAULTS,
  validate: validateVptOptions,
  targets: (sites, options) => {
    const tokenSites = sites.filter((s) => s.kind === 'tokens').sort((a, b) => (a.block ?? 0) - (b.block ?? 0));
    if (tokenSites.length === 0) throw new MethodNotApplicableError('vpt', 'this backbone', 'VPT inserts prompt tokens into token sequences (a transformer), and it has no tokens sites');
    if (!options.deep) return tokenSites.slice(0, 1);
    if (options.perBlock.length === 0) return tokenSites;
    if (options.perBlock.length !== tokenSites.length) {
      throw new OptionError('perBlock', options.perBlock, `one entry per block (${tokenSites.length} on this backbone)`, 'vpt');
    }
    return tokenSites.filter((_, i) => options.perBlock[i]! > 0);
  },
  create: (site, options, ctx) => {
    const dim = site.dim!;
    let initializer = init.truncatedNormal(0.02);
    if (options.init === 'uniform') {
      const patch = ctx.backboneConfig.patchSize;
      if (typeof patch !== 'number') throw new OptionError('init', 'uniform', `"trunc-normal" on a backbone without a patch size (${String(ctx.backboneConfig.arch)})`, 'vpt');
      const bound = Math.sqrt(6 / (3 * patch * patch + dim));
      initializer = init.uniform(-bound, bound);
    }
    const tokens = options.perBlock.length > 0 ? options.perBlock[site.block ?? 0]! : options.tokens;
    const prompts = ctx.parameter('prompts', [1, tokens, dim], initializer, 'token');
    const first = site.name === ctx.targets[0]?.name;
    return { transform: promptTransform(ctx.owner, prompts, first, options) };
  },
  zeroInit: () => false,
});

/** VPT, configured: `vpt({ tokens: 10, deep: true })`. */
export function vpt(options?: Partial<VptOptions>, instance?: { name?: string }): MethodInstance<VptOptions> {
  return vptMethod.configure(options, instance);
}
