import { FileFormatError } from '../errors/errors';
import { fileSystem } from '../io/file-system';
import { adapterToFiles, loadAdapterBytes } from './adapter-bytes';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, checkBackboneMatches, parseAdapterConfig, type AdapterConfig } from './adapter-config';
import type { PeftModel } from './peft-model';

export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterModelConfig,
  checkBackboneMatches,
  type AdapterConfig,
  type AdapterModelConfig,
} from './adapter-config';

/** The reason a read failed, for messages: the file-system code (ENOENT) or the message. */
function readFailure(error: unknown): string {
  return (error as { code?: string }).code ?? (error as Error).message;
}

/**
 * Writes the adapter to `dir` (see {@link adapterToFiles} for the bytes): each file atomically,
 * tensors first; the config records the tensors' checksum.
 */
export async function saveAdapterFiles(model: PeftModel, dir: string): Promise<AdapterConfig> {
  const { config, files } = await adapterToFiles(model);
  const fs = fileSystem('saveAdapter');
  await fs.mkdir(dir);
  await fs.writeFileAtomic(fs.join(dir, ADAPTER_WEIGHTS_FILE), files[ADAPTER_WEIGHTS_FILE]);
  await fs.writeFileAtomic(fs.join(dir, ADAPTER_CONFIG_FILE), files[ADAPTER_CONFIG_FILE]);
  return config;
}

/** Reads and checks `adapter_config.json`. */
export async function readAdapterConfig(dir: string): Promise<AdapterConfig> {
  const fs = fileSystem('readAdapterConfig');
  const file = fs.join(dir, ADAPTER_CONFIG_FILE);
  let text: string;
  try {
    text = new TextDecoder().decode(await fs.readFile(file));
  } catch (error) {
    throw new FileFormatError(file, `cannot read the adapter config (${readFailure(error)})`);
  }
  return parseAdapterConfig(text, file);
}

/**
 * Loads an adapter's tensors from `dir` into a model built with the same methods and backbone (see
 * {@link loadAdapterBytes} for the checks).
 */
export async function loadAdapterWeights(model: PeftModel, dir: string, config?: AdapterConfig): Promise<void> {
  const cfg = config ?? (await readAdapterConfig(dir));
  const fs = fileSystem('loadAdapter');
  const configFile = fs.join(dir, ADAPTER_CONFIG_FILE);
  checkBackboneMatches(cfg.backbone, { ...model.backbone.config }, configFile);
  const file = fs.join(dir, ADAPTER_WEIGHTS_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new FileFormatError(file, `cannot read the adapter weights (${readFailure(error)})`);
  }
  await loadAdapterBytes(model, cfg, bytes, { config: configFile, weights: file });
}
