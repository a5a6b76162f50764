/** @vpeft/cli — the `vpeft` command line, also callable as a function. */
export { runCli, registerCommand, type Command } from './run-cli';
export { parseMethodSpec, parseMethodSpecs } from './method-spec';
export { resolveBackbone, checkBackbone, namedBackbones, type BackboneSpec } from './backbones';
export { discoverPlugins, findPluginPackages, isPluginPackage, usePlugins, PLUGIN_KEYWORD, PLUGINS_ENV } from './plugins';
export { UsageError } from './errors';
export { registerInputError, exitCodeFor, errorLine, EXIT_BAD_INPUT, EXIT_FAILURE } from './error-boundary';
