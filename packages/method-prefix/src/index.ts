/**
 * @vpeft/method-prefix — prefix tuning for vpeft: p learnable keys and values prepended in every
 * attention layer (`softmax(q·[P_k; k]ᵀ)·[P_v; v]`), optionally reparameterised through an MLP and
 * folded afterwards. Importing this package registers the `prefix` method.
 */
import { registerMethod } from '@vpeft/core';
import { prefixMethod } from './method';

export { prefix, prefixMethod, PREFIX_PACKAGE } from './method';
export { PREFIX_DEFAULTS, validatePrefixOptions, type PrefixOptions } from './options';
export { layerPrefixes, prefixTransform, type PrefixProjectionLayer, type PrefixProjectionShared, type PrefixSource } from './transform';
export { foldPrefixProjection } from './fold';

registerMethod(prefixMethod);
