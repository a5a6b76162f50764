/**
 * @vpeft/method-adapter — the adapter family: sequential bottleneck adapters (`adapter`, Houlsby
 * placement as an option), AdaptFormer's parallel adapter (`adaptformer`) and Convpass (`convpass`).
 * Importing this package registers all three.
 */
import { registerMethod } from '@vpeft/core';
import { adapterMethod } from './adapter';
import { adaptFormerMethod } from './adaptformer';
import { convpassMethod } from './convpass';

export { adapter, adapterMethod, ADAPTER_PACKAGE } from './adapter';
export { adaptformer, adaptFormerMethod } from './adaptformer';
export { convpass, convpassMethod, convOverTokens } from './convpass';
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
