import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, gelu, init, quickGelu, MethodNotApplicableError, OptionError, type MethodInstance, type SiteModule } from '@vpeft/core';
import { createBottleneck, tokenLinear } from './bottleneck';
import { ADAPTER_DEFAULTS, validateAdapterOptions, type AdapterOptions } from './options';

const ACTIVATIONS: Record<AdapterOptions['activation'], (t: tf.Tensor) => tf.Tensor> = {
  gelu: (t) => gelu(t),
  relu: (t) => tf.relu(t),
  'quick-gelu': (t) => quickGelu(t),
};

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
    if (options.perBlock.length === 0) return found;
    const blocks = new Set(found.map((s) => s.block));
    if (options.perBlock.length !== blocks.size) {
      throw new OptionError('perBlock', options.perBlock, `one entry per block (${blocks.size} on this backbone)`, 'adapter');
    }
    return found.filter((s) => options.perBlock[s.block ?? 0]! > 0);
  },
  create: (site, options, ctx) => {
    const bottleneck = options.perBlock.length > 0 ? options.perBlock[site.block ?? 0]! : options.bottleneck;
    const p = createBottleneck(site, ctx, bottleneck, init.kaimingUniform(Math.sqrt(5)));
    const act = ACTIVATIONS[options.activation];
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
