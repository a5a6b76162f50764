import { fileSystem } from '../io/file-system';
import { ADAPTER_CONFIG_FILE, loadAdapterWeights, readAdapterConfig, saveAdapterFiles } from './adapter-io';
import { registerAdapterFormat, VPEFT_ADAPTER_FORMAT, type AdapterFormat } from './adapter-format';
import { applyAdapterConfig } from './apply-adapter-config';

/**
 * vpeft's own adapter format: `adapter_config.json` (backbone config, head, seed, each method by
 * name, package and options, the tensor index and checksum) + `adapter.safetensors` with the
 * trainable tensors only. Loading looks each method up in the registry by name.
 */
export const vpeftAdapterFormat: AdapterFormat = {
  name: VPEFT_ADAPTER_FORMAT,
  packageName: '@vpeft/core',
  async save(model, dir) {
    await saveAdapterFiles(model, dir);
  },
  async detect(dir) {
    const fs = fileSystem('loadPeftModel');
    return fs.readFile(fs.join(dir, ADAPTER_CONFIG_FILE)).then((bytes) => new TextDecoder().decode(bytes).includes('"vpeft-adapter"'), () => false);
  },
  async load(backbone, dir) {
    const config = await readAdapterConfig(dir);
    const model = applyAdapterConfig(backbone, config, fileSystem('loadPeftModel').join(dir, ADAPTER_CONFIG_FILE));
    try {
      await loadAdapterWeights(model, dir, config);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  },
  loadInto: (model, dir) => loadAdapterWeights(model, dir),
};

registerAdapterFormat(vpeftAdapterFormat);
