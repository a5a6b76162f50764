/**
 * @vpeft/method-adapter — the adapter family: sequential bottleneck adapters (`adapter`, Houlsby
 * placement as an option), AdaptFormer's parallel adapter (`adaptformer`), Convpass (`convpass`) and a
 * parallel conv bottleneck for CNN backbones (`conv-adapter`). Importing this package registers them.
 */
import { registerMethod } from '@vpeft/core';
import { adapterMethod } from './adapter';
import { adaptFormerMethod } from './adaptformer';
import { convAdapterMethod } from './conv-adapter';
import { convpassMethod } from './convpass';

export { adapter, adapterMethod, ADAPTER_PACKAGE } from './adapter';
export { adaptformer, adaptFormerMethod } from './adaptformer';
export { convpass, convpassMethod, convOverTokens } from './convpass';
export { convAdapter, convAdapterMethod, CONV_ADAPTER_DEFAULTS, type ConvAdapterOptions } from './conv-adapter';
export { createBottleneck, tokenLinear, type Bottleneck } from './bottleneck';
export {
  ADAPTER_DEFAULTS,
  ADAPTFORMER_DEFAULTS,
  CONVPASS_DEFAULTS,
  type AdapterOptions,
  type AdaptFormerOptions,
  type ConvpassOptions,
} from './options';

registerMethod(adapterMethod);
registerMethod(adaptFormerMethod);
registerMethod(convpassMethod);
registerMethod(convAdapterMethod);
