import type { Backbone } from '../backbone/backbone';
import { VpeftError } from '../errors/errors';
import { getAdapterFormat, listAdapterFormats, type AdapterFormat } from './adapter-format';
import type { PeftModel } from './peft-model';
// vpeft's own format registers itself on import.
import './vpeft-format';

/** The registered format that recognises `dir`, or throws listing the formats tried. */
async function detectFormat(dir: string): Promise<AdapterFormat> {
  const formats = listAdapterFormats();
  for (const format of formats) if (await format.detect(dir)) return format;
  throw new VpeftError(`${dir}: no registered adapter format recognises it (tried ${formats.map((f) => f.name).join(', ')}); a format registers when its package is imported`);
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
