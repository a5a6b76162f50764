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
 * `use_dora` (DoRA's magnitude vectors), `use_rslora` (scale `lora_alpha/√r`), `rank_pattern` /
 * `alpha_pattern` (per-module rank and alpha), `layers_to_transform` / `layers_pattern` (a block
 * filter on suffix-matched `target_modules`). Anything else that
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
  checkPattern(config.rank_pattern, 'rank_pattern', (v) => Number.isInteger(v) && v > 0, 'a positive integer rank', file);
  checkPattern(config.alpha_pattern, 'alpha_pattern', (v) => typeof v === 'number' && v > 0, 'a positive lora_alpha', file);
  const layers = config.layers_to_transform;
  if (!(layers === undefined || layers === null || Number.isInteger(layers) || (Array.isArray(layers) && layers.every((i) => Number.isInteger(i) && i >= 0)))) {
    throw new FileFormatError(file, `layers_to_transform is ${JSON.stringify(layers)}; expected a layer index or a list of them`);
  }
  const pattern = config.layers_pattern;
  if (!(pattern === undefined || pattern === null || typeof pattern === 'string' || (Array.isArray(pattern) && pattern.every((p) => typeof p === 'string')))) {
    throw new FileFormatError(file, `layers_pattern is ${JSON.stringify(pattern)}; expected a name (e.g. "blocks") or a list of names`);
  }
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

function checkPattern(pattern: unknown, name: string, valid: (value: number) => boolean, what: string, file: string): void {
  if (pattern === undefined || pattern === null) return;
  if (typeof pattern !== 'object' || Array.isArray(pattern)) throw new FileFormatError(file, `${name} is ${JSON.stringify(pattern)}; expected an object of module pattern → value`);
  for (const [key, value] of Object.entries(pattern as Record<string, unknown>)) {
    if (typeof value !== 'number' || !valid(value)) throw new FileFormatError(file, `${name}[${JSON.stringify(key)}] is ${JSON.stringify(value)}; expected ${what}`);
  }
}

/** Whether `pattern` as a PEFT regex matches the whole name. */
function fullMatch(pattern: string, name: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(name);
}

/**
 * The block index PEFT's `layers_to_transform` looks at: the number after `<layers_pattern>.` (any of
 * them), or without a pattern the first numbered segment (`blocks.3.attn.qkv` → 3). PEFT's regex needs a
 * segment before the layer list (`model.layers.3...`); timm's `blocks.{i}` starts the name, so it is also
 * found there.
 */
function layerIndex(moduleName: string, layersPattern: PeftLoraConfig['layers_pattern']): number | undefined {
  const patterns = layersPattern === undefined || layersPattern === null || layersPattern.length === 0 ? ['[^.]*'] : typeof layersPattern === 'string' ? [layersPattern] : layersPattern;
  for (const pattern of patterns) {
    const m = new RegExp(`^(?:.*?\\.)?(?:${pattern})\\.(\\d+)\\.`).exec(moduleName);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * PEFT's rule for whether a module is targeted: `target_modules` as a string is a regular expression
 * that must match the whole name; as a list, a name matches an entry equal to it, or ending in `.` + the
 * entry — and then, with `layers_to_transform`, only in those layers (see {@link layerIndex}); names
 * listed in full are not filtered by layer, as in PEFT.
 */
export function peftTargets(moduleName: string, config: Pick<PeftLoraConfig, 'target_modules' | 'layers_to_transform' | 'layers_pattern'>): boolean {
  const targetModules = config.target_modules as string[] | string;
  if (typeof targetModules === 'string') return fullMatch(targetModules, moduleName);
  if (targetModules.includes(moduleName)) return true;
  if (!targetModules.some((t) => moduleName.endsWith(`.${t}`))) return false;
  const layers = config.layers_to_transform;
  if (layers === undefined || layers === null || (Array.isArray(layers) && layers.length === 0)) return true;
  const index = layerIndex(moduleName, config.layers_pattern);
  return index !== undefined && (typeof layers === 'number' ? index === layers : layers.includes(index));
}

/**
 * A per-module value from PEFT's `rank_pattern` / `alpha_pattern`: the first key that, as a regular
 * expression, matches the end of the module name at a segment boundary (`(^|.*\.)key$`), else `fallback`.
 */
export function peftPatternValue(pattern: Record<string, number> | null | undefined, moduleName: string, fallback: number): number {
  for (const [key, value] of Object.entries(pattern ?? {})) if (new RegExp(`^(?:.*\\.)?(?:${key})$`).test(moduleName)) return value;
  return fallback;
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
  /** Modules whose rank is not `r` (PEFT's `rank_pattern`, keyed by full module name). */
  rankPattern?: Record<string, number>;
  /** Modules whose `lora_alpha` is not `alpha` (PEFT's `alpha_pattern`). */
  alphaPattern?: Record<string, number>;
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
    rank_pattern: options.rankPattern ?? {},
    alpha_pattern: options.alphaPattern ?? {},
    revision: null,
  };
}
