/**
 * The benchmark's training settings as vpeft models on one ViT: full fine-tuning, LoRA r=8 on q/v,
 * BitFit, VPT-deep 10 and linear probe (plus inference). Method packages are imported dynamically:
 * one that is missing or not usable yet yields a skip note instead of a model.
 */
import { applyPeft, getMethod, type MethodInstance, type PeftModel, type ViT } from '@vpeft/core';

/** A setting's name, as in the table and the PyTorch script. */
export type SettingName = 'full' | 'lora' | 'bitfit' | 'vpt' | 'linear' | 'inference';

/** All settings, in table order. */
export const SETTINGS: readonly SettingName[] = ['full', 'lora', 'bitfit', 'vpt', 'linear', 'inference'];

/** How a method setting is configured through the registry (the package registers the method on import). */
const METHOD_SETTINGS: Partial<Record<SettingName, { pkg: string; method: string; options: object }>> = {
  lora: { pkg: '@vpeft/method-lora', method: 'lora', options: { r: 8, alpha: 8, targets: ['blocks.*.attn.qkv'], slices: ['q', 'v'] } },
  bitfit: { pkg: '@vpeft/method-bitfit', method: 'bitfit', options: {} },
  vpt: { pkg: '@vpeft/method-vpt', method: 'vpt', options: { tokens: 10, deep: true } },
};

/**
 * Imports the settings' method packages (each registers its methods). The default export, so that
 * data-parallel workers import this module (`createDataParallelTrainer`'s `imports`) and call it.
 */
export default async function importSettingPackages(): Promise<void> {
  for (const { pkg } of Object.values(METHOD_SETTINGS)) await import(pkg).catch(() => undefined);
}

/** URL of this module, for `createDataParallelTrainer`'s `imports`. */
export const SETTINGS_MODULE = new URL(import.meta.url);

/** A built setting, or why it was skipped. */
export type BuiltSetting = { model: PeftModel; describe: string } | { skip: string };

async function methodInstance(name: SettingName): Promise<MethodInstance<object> | string> {
  const spec = METHOD_SETTINGS[name]!;
  try {
    await import(spec.pkg);
  } catch (error) {
    return `${spec.pkg} not importable yet (${(error as Error).message.split('\n')[0]})`;
  }
  try {
    return getMethod(spec.method).configure(spec.options as never);
  } catch (error) {
    return `${spec.pkg}: ${spec.method}(${JSON.stringify(spec.options)}) not usable: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** Applies a setting to `vit` (backbone frozen, except for `full`). Dispose the model, then `vit.parameters.freeze()`. */
export async function buildSetting(vit: ViT, name: SettingName, numClasses: number): Promise<BuiltSetting> {
  if (name in METHOD_SETTINGS) {
    const instance = await methodInstance(name);
    if (typeof instance === 'string') return { skip: instance };
    try {
      const model = applyPeft(vit, [instance], { numClasses });
      return { model, describe: `${METHOD_SETTINGS[name]!.method}(${JSON.stringify(instance.options)})` };
    } catch (error) {
      return { skip: `applyPeft failed: ${(error as Error).message.split('\n')[0]}` };
    }
  }
  const model = applyPeft(vit, [], { numClasses });
  if (name === 'full') vit.parameters.unfreeze('**');
  return { model, describe: name === 'full' ? 'all backbone parameters + head' : name === 'linear' ? 'head only' : 'predict' };
}
