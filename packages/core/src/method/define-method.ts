import { OptionError, VpeftError } from '../errors/errors';
import type { MethodDefinition, MethodInstance, MethodSpec } from './method';

const NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * Defines a PEFT method from its spec. The result validates options at the boundary: unknown option
 * names are rejected (listing the known ones), defaults fill the rest, then `spec.validate` runs.
 *
 * ```ts
 * export const ia3Method = defineMethod({ name: 'ia3', version: '0.1.0', category: 'addition',
 *   defaults: { targets: ['blocks.*.mlp.fc1'] }, targets, create });
 * export const ia3 = (options?: Partial<Ia3Options>) => ia3Method.configure(options);
 * ```
 */
export function defineMethod<Options extends object>(spec: MethodSpec<Options>): MethodDefinition<Options> {
  if (!NAME.test(spec.name)) {
    throw new VpeftError(`method name ${JSON.stringify(spec.name)} must be lowercase letters, digits, "-" or "_", starting with a letter`);
  }
  if (!spec.create && !spec.select) {
    throw new VpeftError(`method "${spec.name}" must implement create (adds modules) or select (unfreezes parameters)`);
  }
  if (spec.create && !spec.targets) {
    throw new VpeftError(`method "${spec.name}" implements create but not targets (which sites to build at)`);
  }
  const definition: MethodDefinition<Options> = {
    ...spec,
    specificationVersion: 'v1',
    configure(options = {}, instance = {}): MethodInstance<Options> {
      const known = Object.keys(spec.defaults);
      for (const key of Object.keys(options)) {
        if (!known.includes(key)) {
          throw new OptionError(key, (options as Record<string, unknown>)[key], `one of the options ${known.join(', ')}`, spec.name);
        }
      }
      const resolved = { ...spec.defaults } as Options;
      for (const [key, value] of Object.entries(options)) {
        if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
      }
      spec.validate?.(resolved);
      const name = instance.name ?? spec.name;
      if (!NAME.test(name)) throw new OptionError('name', name, 'lowercase letters, digits, "-" or "_"', spec.name);
      return Object.freeze({ kind: 'method', definition, name, options: Object.freeze(resolved) });
    },
  };
  return Object.freeze(definition);
}
