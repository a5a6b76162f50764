/**
 * @vpeft/method-fact — FacT for vpeft: tensor-train (FacT-TT) or Tucker (FacT-TK) updates of every ViT
 * block's qkv, proj, fc1 and fc2 weights with factors shared across blocks, merged into the weights for
 * zero inference cost. Importing it registers the `fact` method with @vpeft/core.
 */
import { registerMethod } from '@vpeft/core';
import { factMethod } from './method';

export { fact, factMethod, FACT_PACKAGE } from './method';
export { FACT_DEFAULTS, FACT_VARIANTS, validateFactOptions, type FactOptions, type FactVariant } from './options';
export { factLayout, factWeightOf, sharedFactors, tkCore, ttCore, type CoreFn, type FactLayout, type FactShared, type FactWeight } from './cores';
export { factTerm, factTransform, type FactSiteState } from './transform';
export { factWeightDelta, foldFact } from './merge';

registerMethod(factMethod);
