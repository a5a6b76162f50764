import { FileFormatError } from '@vpeft/core';

/** The config file of a Hugging Face PEFT adapter directory (`save_pretrained`). */
export const PEFT_CONFIG_FILE = 'adapter_config.json';
/** The weights file of a Hugging Face PEFT adapter directory (`save_pretrained` with safetensors). */
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
/** PEFT's pickle weights file, which vpeft does not read. */
export const PEFT_PICKLE_WEIGHTS_FILE = 'adapter_model.bin';

/** The prefix PEFT puts before module names in adapter weight keys (`PeftModel.base_model.model`). */
export const PEFT_KEY_PREFIX = 'base_model.model.';

/**
 * The fields of PEFT's `LoraConfig` (as saved in `adapter_config.json`) that vpeft reads or checks.
 * Mapped: `r`, `lora_alpha`, `lora_dropout`, `target_modules`, `modules_to_save` (the head only),
 * `use_dora` (DoRA's magnitude vectors), `use_rslora` (scale `lora_alpha/√r`). Anything else that
 * changes the math away from `W x + scale·B A x` is refused.
 */
export interface PeftLoraConfig {
  peft_type: string;
  r: number;
  lora_alpha: number;
  lora_dropout?: number;
  target_modules: string[] | string | null;
  modules_to_save?: string[] | null;
  bias?: string;
  fan_in_fan_out?: boolean;
  use_rslora?: boolean;
  use_dora?: boolean;
  init_lora_weights?: boolean | string;
  layers_to_transform?: number[] | number | null;
  layers_pattern?: string[] | string | null;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  exclude_modules?: string[] | string | null;
  lora_bias?: boolean;
  trainable_token_indices?: unknown;
  target_parameters?: unknown;
  megatron_config?: unknown;
  base_model_name_or_path?: string | null;
  [key: string]: unknown;
}

/** `init_lora_weights` values whose saved adapter applies to the unchanged base weights. */
const PLAIN_INITS: ReadonlyArray<boolean | string> = [true, false, 'gaussian', 'eva'];

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value as object).length === 0;
  return false;
}

/**
 * Throws a {@link FileFormatError} naming the first PEFT option vpeft cannot honour, and why.
 * Supported: `peft_type` "LORA", integer `r`, `lora_alpha`, `lora_dropout`, `target_modules` (a list of
 * module names or suffixes, or a regular expression), `modules_to_save` null or `["head"]`.
 */
export function checkPeftLoraConfig(config: PeftLoraConfig, file: string): void {
  const refuse = (option: string, why: string): never => {
    throw new FileFormatError(file, `PEFT option ${option} is not supported by @vpeft/method-lora: ${why}`);
  };
  if (config.peft_type !== 'LORA') {
    throw new FileFormatError(file, `peft_type is ${JSON.stringify(config.peft_type)}; @vpeft/method-lora reads PEFT LoRA adapters only ("LORA")`);
  }
  if (!Number.isInteger(config.r) || config.r <= 0) throw new FileFormatError(file, `r is ${JSON.stringify(config.r)}; expected a positive integer`);
  if (typeof config.lora_alpha !== 'number' || !(config.lora_alpha > 0)) {
    throw new FileFormatError(file, `lora_alpha is ${JSON.stringify(config.lora_alpha)}; expected a positive number`);
  }
  const dropout = config.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new FileFormatError(file, `lora_dropout is ${JSON.stringify(dropout)}; expected a rate in [0, 1)`);
  for (const flag of ['use_dora', 'use_rslora'] as const) {
    if (config[flag] !== undefined && typeof config[flag] !== 'boolean') throw new FileFormatError(file, `${flag} is ${JSON.stringify(config[flag])}; expected true or false`);
  }
  if (config.fan_in_fan_out === true) refuse('fan_in_fan_out: true', 'it is for GPT-2-style Conv1D layers; timm ViT layers are nn.Linear/nn.Conv2d');
  if (config.bias !== undefined && config.bias !== 'none') refuse(`bias: ${JSON.stringify(config.bias)}`, 'training biases is BitFit (@vpeft/method-bitfit); PEFT LoRA adapters read here must have bias "none"');
  if (config.lora_bias === true) refuse('lora_bias: true', 'the LoRA B projection has no bias in vpeft');
  if (config.init_lora_weights !== undefined && !PLAIN_INITS.includes(config.init_lora_weights)) {
    refuse(`init_lora_weights: ${JSON.stringify(config.init_lora_weights)}`, 'PiSSA/OLoRA/CorDA/LoftQ-style inits change the base weights, so the adapter does not apply to the original backbone (convert it with PEFT first)');
  }
  if (!isEmpty(config.rank_pattern)) refuse('rank_pattern', 'one rank r for every module is supported');
  if (!isEmpty(config.alpha_pattern)) refuse('alpha_pattern', 'one lora_alpha for every module is supported');
  if (!isEmpty(config.layers_to_transform) || !isEmpty(config.layers_pattern)) refuse('layers_to_transform/layers_pattern', 'name the modules in target_modules instead');
  if (!isEmpty(config.exclude_modules)) refuse('exclude_modules', 'name the modules in target_modules instead');
  if (!isEmpty(config.trainable_token_indices)) refuse('trainable_token_indices', 'vision backbones have no token embedding to train');
  if (!isEmpty(config.target_parameters)) refuse('target_parameters', 'LoRA on bare parameters (not modules) is not supported by vpeft');
  if (!isEmpty(config.megatron_config)) refuse('megatron_config', 'Megatron parallel layers do not exist here');
  if (config.target_modules === 'all-linear') refuse('target_modules: "all-linear"', 'list the module names (e.g. ["qkv", "proj", "fc1", "fc2"])');
  const targets = config.target_modules;
  if (!(typeof targets === 'string' || (Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string')))) {
    throw new FileFormatError(file, `target_modules is ${JSON.stringify(targets)}; expected a non-empty list of module names or a regular expression`);
  }
  const toSave = config.modules_to_save ?? [];
  if (!Array.isArray(toSave) || toSave.some((m) => m !== 'head')) {
    refuse(`modules_to_save: ${JSON.stringify(config.modules_to_save)}`, 'besides the LoRA factors only the classification head ("head") can be trained and saved');
  }
}

/**
 * PEFT's rule for whether a module is targeted: `target_modules` as a string is a regular
 * expression that must match the whole name; as a list, a name matches an entry equal to it or
 * ending in `.` + the entry.
 */
export function peftTargets(moduleName: string, targetModules: string[] | string): boolean {
  if (typeof targetModules === 'string') return new RegExp(`^(?:${targetModules})$`).test(moduleName);
  return targetModules.some((t) => moduleName === t || moduleName.endsWith(`.${t}`));
}

/** The `adapter_config.json` vpeft writes for a LoRA adapter with a trained head. */
export function buildPeftLoraConfig(options: {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
  baseModel?: string;
  dora?: boolean;
  rslora?: boolean;
}): PeftLoraConfig {
  return {
    peft_type: 'LORA',
    task_type: null,
    base_model_name_or_path: options.baseModel ?? null,
    r: options.r,
    lora_alpha: options.alpha,
    lora_dropout: options.dropout,
    target_modules: options.targetModules,
    modules_to_save: ['head'],
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: options.rslora ?? false,
    use_dora: options.dora ?? false,
    init_lora_weights: true,
    inference_mode: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    revision: null,
  };
}
