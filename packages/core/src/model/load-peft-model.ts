import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backbone } from '../backbone/backbone';
import { getAdapterFormat, listAdapterFormats } from './adapter-format';
import { ADAPTER_CONFIG_FILE, loadAdapterWeights, readAdapterConfig } from './adapter-io';
import { applyAdapterConfig } from './apply-adapter-config';
import type { PeftModel } from './peft-model';

/**
 * Rebuilds a PeftModel on `backbone` from a saved adapter directory: methods are looked up in the
 * registry by name (an unregistered one fails naming the package to install), configured with the
 * saved options, and their tensors loaded. Directories in a registered foreign format (e.g. PEFT's)
 * are detected and loaded by that format.
 */
export async function loadPeftModel(backbone: Backbone, dir: string, options: { format?: string } = {}): Promise<PeftModel> {
  if (options.format && options.format !== 'vpeft') return getAdapterFormat(options.format).load(backbone, dir);
  if (!options.format) {
    const isNative = await readFile(join(dir, ADAPTER_CONFIG_FILE), 'utf8').then(
      (text) => text.includes('"vpeft-adapter"'),
      () => false,
    );
    if (!isNative) {
      for (const format of listAdapterFormats()) if (await format.detect(dir)) return format.load(backbone, dir);
    }
  }
  const config = await readAdapterConfig(dir);
  const model = applyAdapterConfig(backbone, config, join(dir, ADAPTER_CONFIG_FILE));
  try {
    await loadAdapterWeights(model, dir, config);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
