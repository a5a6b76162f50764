/**
 * @vpeft/method-repadapter — RepAdapter for vpeft: a linear adapter with a grouped up projection in
 * front of the ViT's qkv and fc1, folded exactly into those layers on merge. Importing it registers
 * the `repadapter` method with @vpeft/core.
 */
import { registerMethod } from '@vpeft/core';
import { repAdapterMethod } from './method';

export { repAdapter, repAdapterMethod, REPADAPTER_PACKAGE } from './method';
export { REPADAPTER_DEFAULTS, validateRepAdapterOptions, type RepAdapterOptions } from './options';
export { adaptInput, denseUp, groupedUp, repAdapterTransform, type RepAdapterState } from './transform';
export { foldRepAdapter, unfoldRepAdapter, type RepAdapterFold } from './merge';

registerMethod(repAdapterMethod);
