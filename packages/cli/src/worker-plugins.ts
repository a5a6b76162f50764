/**
 * Imported by each data-parallel worker of `vpeft train --workers N` (`createDataParallelTrainer`'s
 * `imports`): its default export imports the same plugins as the CLI — the installed ones (package.json
 * keyword `vpeft-plugin`) and those in VPEFT_PLUGINS, where `--plugin` and a config file's `plugins:`
 * put theirs — so the worker can rebuild the model from its adapter config.
 */
export { discoverPlugins as default } from './plugins';

/** URL of this module for the workers (the built `.js` next to the CLI, or this source file). */
export function workerPluginsUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL(import.meta.url) : new URL('./worker-plugins.js', import.meta.url);
}
