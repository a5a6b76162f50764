/**
 * Model module for data-parallel workers (createDataParallelTrainer's `modelModule`): builds the
 * ViT-Ti/16 benchmark setting named by this module URL's `?setting=` query, as the main thread does.
 */
import { createViT, type PeftModel } from '@vpeft/core';
import { buildSetting, type SettingName } from './settings';

/** The URL to pass as `modelModule` for a setting. */
export function settingModelUrl(setting: SettingName): URL {
  const url = new URL(import.meta.url);
  url.searchParams.set('setting', setting);
  return url;
}

/** Builds the setting named in this module's URL (workers call this). */
export async function createModel(): Promise<PeftModel> {
  const setting = new URL(import.meta.url).searchParams.get('setting') as SettingName | null;
  if (!setting) throw new Error(`${import.meta.url}: no ?setting= in the module URL`);
  const built = await buildSetting(createViT('vit_tiny_patch16_224', { seed: 0 }), setting, 10);
  if ('skip' in built) throw new Error(`setting ${setting} unavailable: ${built.skip}`);
  return built.model;
}
