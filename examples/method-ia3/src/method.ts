import { defineMethod, init, matchSites, type MethodInstance, type SiteModule } from '@vpeft/core';
import { foldScale } from './merge';
import { IA3_DEFAULTS, validateIa3Options, type Ia3Options } from './options';
import { ia3Transform, scaledColumns } from './transform';

/**
 * An IA3-style method (Liu et al., 2022), written only against `@vpeft/core`'s public API: a learned
 * vector rescales the outputs of chosen linear sites (keys and values of the fused qkv, and the MLP's
 * hidden layer). Starts at ones (output unchanged at step 0) and merges into the weights.
 */
export const ia3Method = defineMethod<Ia3Options>({
  name: 'ia3',
  version: '0.1.0',
  packageName: '@vpeft-example/method-ia3',
  category: 'addition',
  description: 'learned rescaling of keys, values and MLP activations (IA3-style)',
  defaults: IA3_DEFAULTS,
  validate: validateIa3Options,
  targets: (sites, options) => matchSites(sites, options.targets, { kinds: ['linear'], option: 'targets', method: 'ia3' }),
  create: (site, options, ctx): SiteModule<'linear'> => {
    const columns = scaledColumns(site, options.slices);
    const width = columns.reduce((n, [start, end]) => n + end - start, 0);
    const scale = ctx.parameter('scale', [width], init.ones(), 'scale');
    return {
      transform: ia3Transform(site, columns, scale),
      merge: () => foldScale(site, columns, scale, ctx.backbone, 1),
      unmerge: () => foldScale(site, columns, scale, ctx.backbone, -1),
    };
  },
  zeroInit: () => true,
});

/** A configured IA3: `ia3()`. */
export function ia3(options?: Partial<Ia3Options>, instance?: { name?: string }): MethodInstance<Ia3Options> {
  return ia3Method.configure(options, instance);
}
