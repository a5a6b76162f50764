import { defineMethod, init, matchSites, OptionError, type CreateContext, type MethodInstance, type SiteInfo, type SiteModule, type AnySiteModule } from '@vpeft/core';
import * as tf from '@tensorflow/tfjs-core';
import { columnNorms, convDoraTransform, foldDora, linearDoraTransform, outputColumns, unfoldDora } from './dora';
import { foldLoraIntoWeight } from './merge';
import { adaptsWholeMatrix, LORA_DEFAULTS, loraScale, validateLoraOptions, type LoraOptions } from './options';
import { DORA_MAGNITUDE, loraLocalName } from './parameter-names';
import { convLoraTransform, linearLoraTransform, type LoraFactor, type LoraSiteState } from './transform';

/** The npm package that provides the `lora` method. */
export const LORA_PACKAGE = '@vpeft/method-lora';

/** The output slices LoRA adapts at a site: named ranges, or none for the whole matrix. */
export function adaptedSlices(site: SiteInfo, options: LoraOptions): Array<{ slice?: string; columns: readonly [number, number] }> {
  if (site.kind === 'linear' && site.slices && !adaptsWholeMatrix(options.slices)) {
    return (options.slices as string[]).map((slice) => ({ slice, columns: site.slices![slice]! }));
  }
  return [{ columns: [0, site.outFeatures!] }];
}

/** The linear and conv sites the options target, checked for what LoRA can adapt. */
function loraTargets(sites: readonly SiteInfo[], options: LoraOptions): SiteInfo[] {
  const matched = matchSites(sites, options.targets, { kinds: ['linear', 'conv'], option: 'targets', method: 'lora' });
  for (const site of matched) {
    if (!site.weight || !site.inFeatures || !site.outFeatures) {
      throw new OptionError('targets', site.name, 'sites that declare their weight and in/out features (this one does not)', 'lora');
    }
    if (site.kind === 'conv') {
      if ((site.groups ?? 1) !== 1) {
        throw new OptionError('targets', site.name, `ungrouped conv sites (this conv has groups = ${site.groups}; LoRA on depthwise/grouped convs is not supported)`, 'lora');
      }
      if (!site.kernelSize) throw new OptionError('targets', site.name, 'conv sites that declare kernelSize', 'lora');
      // A conv site whose op includes a non-linear activation cannot take an additive update after it.
      const activation = site.activation;
      if (activation !== undefined && activation !== 'linear') {
        throw new OptionError('targets', site.name, `conv sites without a fused activation (this one applies "${activation}")`, 'lora');
      }
    }
    if (site.kind === 'linear' && site.slices && !adaptsWholeMatrix(options.slices)) {
      const known = Object.keys(site.slices);
      const unknown = (options.slices as string[]).filter((s) => !known.includes(s));
      if (unknown.length) {
        throw new OptionError('slices', options.slices, `names of the fused outputs of ${site.name} (${known.join(', ')}), or "all" for the whole matrix`, 'lora');
      }
    }
  }
  return matched;
}

/**
 * Builds A (initialised per `options.init`) and B (zeros) for each adapted slice — with DoRA also the
 * magnitude, initialised to the base weight's column norms — and the transform.
 */
function createLora(site: SiteInfo, options: LoraOptions, ctx: CreateContext): AnySiteModule {
  const { r } = options;
  const downInit = options.init === 'trunc-normal' ? init.truncatedNormal(0.02) : init.kaimingUniform(Math.sqrt(5));
  const weight = options.dora ? ctx.backbone.variable(site.weight!) : undefined;
  const factors: LoraFactor[] = adaptedSlices(site, options).map(({ slice, columns }) => {
    const width = columns[1] - columns[0];
    const [downShape, upShape] =
      site.kind === 'conv'
        ? [[site.kernelSize![0], site.kernelSize![1], site.inFeatures!, r], [1, 1, r, width]]
        : [[site.inFeatures!, r], [r, width]];
    return {
      ...(slice !== undefined ? { slice } : {}),
      down: ctx.parameter(loraLocalName('lora_A', slice), downShape, downInit, 'weight'),
      up: ctx.parameter(loraLocalName('lora_B', slice), upShape, init.zeros(), 'weight'),
      columns,
      ...(weight ? { magnitude: ctx.parameter(loraLocalName(DORA_MAGNITUDE, slice), [width], tf.tidy(() => columnNorms(outputColumns(weight, columns))), 'scale') } : {}),
    };
  });
  const state: LoraSiteState = { site, factors, scale: loraScale(options), dropout: options.dropout, ...(weight ? { weight } : {}) };
  if (weight) {
    let scales: tf.Tensor1D[] = [];
    const merge = () => {
      scales = foldDora(state);
    };
    const unmerge = () => unfoldDora(state, scales);
    return site.kind === 'conv'
      ? ({ transform: convDoraTransform(state), merge, unmerge } satisfies SiteModule<'conv'>)
      : ({ transform: linearDoraTransform(state), merge, unmerge } satisfies SiteModule<'linear'>);
  }
  const merge = () => foldLoraIntoWeight(state, ctx.backbone, 1);
  const unmerge = () => foldLoraIntoWeight(state, ctx.backbone, -1);
  return site.kind === 'conv'
    ? ({ transform: convLoraTransform(state), merge, unmerge } satisfies SiteModule<'conv'>)
    : ({ transform: linearLoraTransform(state), merge, unmerge } satisfies SiteModule<'linear'>);
}

/**
 * LoRA (Hu et al., 2021): `y = W x + (alpha/r)·B A x` at linear sites (optionally per fused-qkv
 * slice) and conv sites (a kxk→1x1 pair). `B` starts at zero, so the output is unchanged at step 0;
 * `merge()` folds `(alpha/r)·BA` into `W` for zero inference overhead. With `dora: true`, DoRA's
 * magnitude/direction decomposition (mergeable too); with `rslora: true`, the scale is `alpha/√r`.
 */
export const loraMethod = defineMethod<LoraOptions>({
  name: 'lora',
  version: '0.1.0',
  description: 'Low-rank updates of linear and conv weights (LoRA, DoRA, rsLoRA), mergeable',
  packageName: LORA_PACKAGE,
  category: 'reparameterization',
  defaults: LORA_DEFAULTS,
  validate: validateLoraOptions,
  targets: loraTargets,
  create: createLora,
  zeroInit: () => true,
});

/**
 * A configured LoRA method, e.g. `lora({ r: 8, slices: ['q', 'v'] })`; pass `{ name }` to use it
 * twice in one model.
 */
export function lora(options: Partial<LoraOptions> = {}, instance?: { name?: string }): MethodInstance<LoraOptions> {
  return loraMethod.configure(options, instance);
}
