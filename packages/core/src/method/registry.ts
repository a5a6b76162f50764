import { UnknownMethodError, VpeftError } from '../errors/errors';
import type { MethodDefinition } from './method';

// Kept on globalThis so that two installed copies of @vpeft/core share one registry (as tfjs does).
const KEY = Symbol.for('@vpeft/core/method-registry');
type Registry = Map<string, MethodDefinition<object>>;
const globalScope = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (globalScope[KEY] ??= new Map());

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
 * `packageHint` names the providing package when the caller knows it (a saved adapter's config
 * records it), for the "install X" message; core itself names no method package.
 */
export function getMethod(name: string, packageHint?: string): MethodDefinition<object> {
  const definition = registry.get(name);
  if (!definition) throw new UnknownMethodError(name, listMethods(), packageHint);
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
