import type { Backbone } from '../backbone/backbone';
import { FileFormatError } from '../errors/errors';
import { fileSystem } from '../io/file-system';
import { ADAPTER_CONFIG_FILE } from './adapter-config';
import { getAdapterFormat, listAdapterFormats, type AdapterFormat } from './adapter-format';
import type { PeftModel } from './peft-model';
// vpeft's own format registers itself on import.
import './vpeft-format';

/**
 * The registered format that recognises `dir`, or throws a {@link FileFormatError} saying why none
 * does: the directory is missing, holds no `adapter_config.json`, holds one it cannot read (e.g. a
 * folder of that name) or a damaged one (not JSON), or
 * one that no registered format claims (listing the formats tried).
 */
async function detectFormat(dir: string): Promise<AdapterFormat> {
  const formats = listAdapterFormats();
  for (const format of formats) if (await format.detect(dir)) return format;
  const fs = fileSystem('loadPeftModel');
  if (!(await fs.exists(dir))) throw new FileFormatError(dir, 'no such adapter directory');
  const configFile = fs.join(dir, ADAPTER_CONFIG_FILE);
  if (!(await fs.exists(configFile))) throw new FileFormatError(dir, `holds no ${ADAPTER_CONFIG_FILE}, so it is not a saved adapter (vpeft and Hugging Face PEFT adapters both have one)`);
  let text: string;
  try {
    text = new TextDecoder().decode(await fs.readFile(configFile));
  } catch (error) {
    throw new FileFormatError(configFile, `cannot be read (${(error as { code?: string }).code ?? (error as Error).message}): it should be the adapter's JSON config file`);
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(configFile, `is damaged: not valid JSON (${(error as Error).message}; ${text.length} characters); save the adapter again`);
  }
  throw new FileFormatError(configFile, `no registered adapter format recognises it (tried ${formats.map((f) => f.name).join(', ')}); a format registers when its package is imported`);
}

/**
 * Rebuilds a PeftModel on `backbone` from a saved adapter directory, in the format given or the
 * registered format that recognises it (vpeft's own, PEFT's from `@vpeft/method-lora`, ...). In
 * vpeft's format, methods are looked up in the registry by name (an unregistered one fails naming
 * the package to install), configured with the saved options, and their tensors loaded.
 */
export async function loadPeftModel(backbone: Backbone, dir: string, options: { format?: string } = {}): Promise<PeftModel> {
  const format = options.format ? getAdapterFormat(options.format) : await detectFormat(dir);
  return format.load(backbone, dir);
}
