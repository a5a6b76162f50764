/**
 * @vpeft/method-side — Ladder Side-Tuning for vpeft: a reduced-width side network fed by the
 * frozen backbone's detached taps through gated ladder connections, fused with the backbone's
 * features for the head; the backbone trains off the gradient tape. Importing this package
 * registers the `side` method.
 */
import { registerMethod } from '@vpeft/core';
import { sideMethod } from './method';

export { side, sideMethod, SIDE_PACKAGE } from './method';
export { SIDE_DEFAULTS, validateSideOptions, type SideOptions } from './options';
export { gate, gatedSum, poolSide, sideBlock, tapTokens, tokenLinear, type LinearParams, type NormParams, type SideBlockParams } from './side-network';
export { fuseSideTransform, ladderRungTransform, openLadderTransform } from './transform';

registerMethod(sideMethod);
