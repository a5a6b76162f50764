import type { Backbone } from '../backbone/backbone';
import { getMethod } from '../method/registry';
import { checkBackboneMatches, type AdapterModelConfig } from './adapter-config';
import { applyPeft } from './apply-peft';
import type { PeftModel } from './peft-model';

/**
 * Rebuilds the model an adapter config describes (see `adapterModelConfig`) on `backbone`, with new
 * variables: each method is looked up in the registry by name (an unregistered one fails naming the
 * package to install) and configured with its saved options. Throws when the backbone's config differs
 * from the saved one; `source` names where the config came from in that message.
 */
export function applyAdapterConfig(backbone: Backbone, config: AdapterModelConfig, source = 'applyAdapterConfig'): PeftModel {
  checkBackboneMatches(config.backbone, { ...backbone.config }, source);
  const instances = config.methods.map((m) => getMethod(m.method, m.packageName).configure(m.options, { name: m.name }));
  return applyPeft(backbone, instances, { numClasses: config.numClasses, classNames: config.classNames, seed: config.seed });
}
