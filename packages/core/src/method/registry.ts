import { UnknownMethodError, VpeftError } from '../errors/errors';
import type { MethodDefinition } from './method';

// Kept on globalThis so that two installed copies of @vpeft/core share one registry (as tfjs does).
const KEY = Symbol.for('@vpeft/core/method-registry');
type Registry = Map<string, MethodDefinition<object>>;
const globalScope = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (globalScope[KEY] ??= new Map());

/** Known providers of methods, for "install X" hints when loading an adapter. */
const KNOWN_PACKAGES: Record<string, string> = {
  lora: '@vpeft/method-lora',
  vpt: '@vpeft/method-vpt',
  adapter: '@vpeft/method-adapter',
  adaptformer: '@vpeft/method-adapter',
  convpass: '@vpeft/method-adapter',
  'conv-adapter': '@vpeft/method-adapter',
  bitfit: '@vpeft/method-bitfit',
  'ln-tune': '@vpeft/method-bitfit',
  partial: '@vpeft/method-bitfit',
};

/**
 * Registers a method by name so saved adapters can be loaded by name. Registering the same
 * definition twice is a no-op; a different definition under a taken name throws.
 */
export function registerMethod(definition: MethodDefinition<object>): void {
  const existing = registry.get(definition.name);
  if (existing && existing !== definition) {
    if (existing.version === definition.version && existing.packageName === definition.packageName) {
      // The same package loaded twice (e.g. ESM and CJS builds): keep the first.
      return;
    }
    throw new VpeftError(
      `method "${definition.name}" is already registered (version ${existing.version}${existing.packageName ? ` from ${existing.packageName}` : ''}); unregister it first`,
    );
  }
  registry.set(definition.name, definition);
}

/** Removes a method from the registry. */
export function unregisterMethod(name: string): boolean {
  return registry.delete(name);
}

/**
 * The registered method, or throws naming the package to install and the methods that are registered.
 * `packageHint` names the providing package when the caller knows it (e.g. from a saved adapter's
 * config), so third-party methods get the same "install X" message as vpeft's own.
 */
export function getMethod(name: string, packageHint?: string): MethodDefinition<object> {
  const definition = registry.get(name);
  if (!definition) throw new UnknownMethodError(name, listMethods(), packageHint ?? KNOWN_PACKAGES[name]);
  return definition;
}

/** True when a method of that name is registered. */
export function hasMethod(name: string): boolean {
  return registry.has(name);
}

/** Names of registered methods, sorted. */
export function listMethods(): string[] {
  return [...registry.keys()].sort();
}
