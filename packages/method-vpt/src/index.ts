/**
 * @vpeft/method-vpt — Visual Prompt Tuning (shallow and deep; prepended as VPT or appended as NOAH).
 * Importing this package registers the `vpt` method.
 */
import { registerMethod } from '@vpeft/core';
import { vptMethod } from './method';

export { vpt, vptMethod, VPT_PACKAGE } from './method';
export { VPT_DEFAULTS, validateVptOptions, type VptOptions } from './options';
export { promptTransform } from './transform';

registerMethod(vptMethod);
