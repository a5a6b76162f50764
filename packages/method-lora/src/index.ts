/**
 * @vpeft/method-lora — LoRA for vpeft: low-rank updates `W x + (alpha/r)·B A x` of linear sites
 * (whole, or per slice of a fused qkv) and conv sites (a kxk→1x1 pair), DoRA and rsLoRA, merge/unmerge, and
 * interchange with Hugging Face PEFT's adapter format. Importing it registers the `lora` method and
 * the `'peft'` adapter format with @vpeft/core.
 */
import { registerAdapterFormat, registerMethod } from '@vpeft/core';
import { loraMethod } from './method';
import { peftAdapterFormat } from './peft/peft-format';

export { lora, loraMethod, adaptedSlices, LORA_PACKAGE } from './method';
export { LORA_DEFAULTS, LORA_INITS, adaptsWholeMatrix, loraScale, validateLoraOptions, type LoraInit, type LoraOptions } from './options';
export { DORA_MAGNITUDE, loraLocalName, loraParameterName, type LoraFactorName } from './parameter-names';
export { columnNorms, convDoraTransform, doraColumnScale, factorDelta, foldDora, linearDoraTransform, outputColumns, unfoldDora } from './dora';
export {
  convLoraTerm,
  convLoraTransform,
  linearLoraTerm,
  linearLoraTransform,
  stackedDown,
  stackedUp,
  type LoraFactor,
  type LoraSiteState,
} from './transform';
export { foldLoraIntoWeight, loraWeightDelta } from './merge';
export { peftAdapterFormat } from './peft/peft-format';
export {
  buildPeftLoraConfig,
  checkPeftLoraConfig,
  peftPatternValue,
  peftTargets,
  PEFT_CONFIG_FILE,
  PEFT_KEY_PREFIX,
  PEFT_WEIGHTS_FILE,
  type PeftLoraConfig,
} from './peft/peft-config';

registerMethod(loraMethod);
registerAdapterFormat(peftAdapterFormat);
