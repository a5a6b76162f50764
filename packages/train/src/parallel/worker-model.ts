import { applyAdapterConfig, createViT, hasBackbone, hasMethod, loadBackbone, VpeftError, type AdapterModelConfig, type Backbone, type PeftModel, type ViTConfig } from '@vpeft/core';

/** What a data-parallel worker rebuilds its model from (structured-clonable). */
export interface WorkerModelSpec {
  /** The model as a saved adapter describes it: backbone config, head, seed, methods by name and options. */
  config: AdapterModelConfig;
  /** Modules (URLs) imported first; a default export that is a function is called and awaited. */
  imports: string[];
  /** Names of the parameters the main thread trains, in order (methods and head, plus any unfrozen backbone parameter). */
  trainableNames: string[];
}

/**
 * True when a worker can rebuild this backbone from its config: a ViT (built from the config), or a
 * backbone registered by the config's name (in this thread's registry; a worker registers the same
 * ones through the plugins it imports).
 */
export function canRebuildInWorker(config: AdapterModelConfig['backbone']): boolean {
  return config.arch === 'vit' || (typeof config.name === 'string' && hasBackbone(config.name));
}

/**
 * A backbone with the structure `config` describes; its values are overwritten by the main
 * thread's, so weights need not be loaded (a registered backbone is loaded with `shapesOnly`).
 */
async function rebuildBackbone(config: AdapterModelConfig['backbone']): Promise<Backbone> {
  if (config.arch === 'vit') return createViT(config as unknown as ViTConfig);
  if (typeof config.name === 'string' && hasBackbone(config.name)) return loadBackbone(config.name, { shapesOnly: true });
  throw new VpeftError(`data-parallel workers rebuild the backbone from its config or its registered name; "${String(config.arch)}" backbone ${String(config.name ?? '(unnamed)')} is neither a ViT nor registered in the worker (pass the plugin that registers it)`);
}

/**
 * Builds, inside a worker, the main thread's model: imports the given modules (plugins registering
 * methods) and each method's package when its method is not registered yet, rebuilds the backbone
 * and applies the saved methods by name and options (`applyAdapterConfig`), then makes exactly the
 * main thread's parameters trainable.
 */
export async function buildWorkerModel(spec: WorkerModelSpec): Promise<PeftModel> {
  for (const url of spec.imports) {
    const module = (await import(url)) as { default?: unknown };
    if (typeof module.default === 'function') await (module.default as () => unknown)();
  }
  for (const m of spec.config.methods) {
    // A method's own package registers it on import; if it cannot be found from here, applyAdapterConfig names it.
    if (!hasMethod(m.method) && m.packageName) await import(m.packageName).catch(() => undefined);
  }
  const model = applyAdapterConfig(await rebuildBackbone(spec.config.backbone), spec.config, 'data-parallel worker');
  const missing = spec.trainableNames.filter((name) => !model.parameters.has(name));
  if (missing.length) {
    model.dispose({ backbone: true });
    throw new VpeftError(`the worker's model (rebuilt from the adapter config) lacks trainable parameters of the main thread's: ${missing.slice(0, 5).join(', ')}`);
  }
  model.parameters.freeze();
  for (const name of spec.trainableNames) model.parameters.setTrainable(name, true);
  return model;
}
