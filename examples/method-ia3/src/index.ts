/**
 * An example third-party vpeft method package: IA3-style rescaling, built only on `@vpeft/core`.
 * Importing it registers `ia3`, so saved adapters that use it load by name.
 */
import { registerMethod } from '@vpeft/core';
import { ia3Method } from './method';

export { ia3, ia3Method } from './method';
export { IA3_DEFAULTS, type Ia3Options } from './options';

registerMethod(ia3Method);
