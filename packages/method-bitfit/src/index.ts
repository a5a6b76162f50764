/**
 * @vpeft/method-bitfit — partial-based PEFT: methods that add no modules but unfreeze chosen existing
 * parameters (core's `select` contract): `bitfit`, `ln-tune` and `partial` (last k blocks / globs).
 * Importing this package registers them.
 */
import { registerMethod } from '@vpeft/core';
import { bitfitMethod, lnTuneMethod, partialMethod } from './method';

export { bitfit, bitfitMethod, lnTune, lnTuneMethod, partial, partialMethod, BITFIT_PACKAGE } from './method';
export { BITFIT_DEFAULTS, LN_TUNE_DEFAULTS, PARTIAL_DEFAULTS, type BitFitOptions, type LnTuneOptions, type PartialOptions } from './options';

registerMethod(bitfitMethod);
registerMethod(lnTuneMethod);
registerMethod(partialMethod);
