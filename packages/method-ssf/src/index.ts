/**
 * @vpeft/method-ssf — SSF for vpeft: a learned per-channel scale and shift after linear, conv and
 * norm layers, folded into those layers on merge. Importing it registers the `ssf` method with
 * @vpeft/core.
 */
import { registerMethod } from '@vpeft/core';
import { ssfMethod } from './method';

export { ssf, ssfMethod, SSF_PACKAGE } from './method';
export { SSF_DEFAULTS, validateSsfOptions, type SsfOptions } from './options';
export { scaleShift, ssfChannels, ssfTransform, type SsfSiteState } from './transform';
export { foldSsf } from './merge';

registerMethod(ssfMethod);
