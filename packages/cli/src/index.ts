/** @vpeft/cli — the `vpeft` command line, also callable as a function. */
export { runCli, registerCommand, type Command } from './run-cli';
export { parseMethodSpec } from './method-spec';
export { resolveBackbone, NAMED_BACKBONES, type BackboneSpec } from './backbones';
export { discoverMethods } from './discover-methods';
export { UsageError } from './errors';
export { registerInputError, exitCodeFor, errorLine, EXIT_BAD_INPUT, EXIT_FAILURE } from './error-boundary';
