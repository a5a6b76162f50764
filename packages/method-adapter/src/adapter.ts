import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, gelu, init, OptionError, type MethodInstance, type SiteModule, MethodNotApplicableError } from '@vpeft/core';
import { createBottleneck, tokenLinear } from './bottleneck';
import { ADAPTER_DEFAULTS, validateAdapterOptions, type AdapterOptions } from './options';

/** npm package of the adapter family, for "install X" messages. */
export const ADAPTER_PACKAGE = '@vpeft/method-adapter';

/**
 * Sequential bottleneck adapter (Houlsby et al.; "Pfeiffer" placement as vision papers use it): at a
 * block's branch, `h = branch(x)` becomes `h + up(act(down(h)))`. `up` starts at zero, so the output is
 * unchanged at step 0. Not mergeable (a non-linear module).
 */
export const adapterMethod = defineMethod<AdapterOptions>({
  name: 'adapter',
  version: '0.1.0',
  packageName: ADAPTER_PACKAGE,
  category: 'addition',
  description: 'sequential bottleneck adapter after the MLP (or after attention and MLP: Houlsby)',
  defaults: ADAPTER_DEFAULTS,
  validate: validateAdapterOptions,
  targets: (sites, options) => {
    const branches = options.placement === 'houlsby' ? ['attn', 'mlp'] : ['mlp'];
    const found = sites.filter((s) => s.kind === 'branch' && branches.includes(s.branch!));
    if (found.length === 0) throw new MethodNotApplicableError('adapter', 'this backbone', `an adapter sits on a transformer block's ${branches.join('/')} branch, and it has no such branch sites (on a CNN use conv-adapter)`);
    return found;
  },
  create: (site, options, ctx) => {
    const p = createBottleneck(site, ctx, options.bottleneck, init.kaimingUniform(Math.sqrt(5)));
    const act = options.activation === 'gelu' ? (t: tf.Tensor) => gelu(t) : (t: tf.Tensor) => tf.relu(t);
    return {
      transform: (x, next) => {
        const h = next(x);
        const delta = tokenLinear(act(tokenLinear(h, p.downWeight, p.downBias)) as tf.Tensor3D, p.upWeight, p.upBias);
        return tf.add(h, delta) as tf.Tensor3D;
      },
    } satisfies SiteModule<'branch'>;
  },
  zeroInit: () => true,
});

/** A configured sequential adapter: `adapter({ bottleneck: 8 })`, `adapter({ placement: 'houlsby' })`. */
export function adapter(options?: Partial<AdapterOptions>, instance?: { name?: string }): MethodInstance<AdapterOptions> {
  return adapterMethod.configure(options, instance);
}
