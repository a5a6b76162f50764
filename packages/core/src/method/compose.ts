import { VpeftError } from '../errors/errors';
import type { ComposedMethod, MethodInput, MethodInstance } from './method';

/**
 * Composes methods into one unified method (NOAH-style LoRA + adapter + VPT, or any mix).
 * Transforms at a shared site chain in the order given (the first is outermost). Instance names
 * must be unique: configure a second instance of one method with `{ name }`.
 */
export function compose(...methods: (MethodInstance<object> | ComposedMethod)[]): ComposedMethod {
  const flat = flattenMethods(methods);
  if (flat.length === 0) throw new VpeftError('compose() needs at least one method');
  return Object.freeze({ kind: 'composed', name: flat.map((m) => m.name).join('+'), methods: Object.freeze(flat) });
}

/** Flattens any method input into a list of instances, checking that instance names are unique. */
export function flattenMethods(input: MethodInput): MethodInstance<object>[] {
  const items = Array.isArray(input) ? input : [input as MethodInstance<object> | ComposedMethod];
  const flat: MethodInstance<object>[] = [];
  for (const item of items) {
    if (item.kind === 'composed') flat.push(...item.methods);
    else if (item.kind === 'method') flat.push(item);
    else throw new VpeftError(`expected a configured method (e.g. lora({ r: 8 })) or compose(...), got ${JSON.stringify(item)}`);
  }
  const seen = new Set<string>();
  for (const m of flat) {
    if (m.name === 'backbone' || m.name === 'head') {
      throw new VpeftError(`method instance name "${m.name}" is reserved; pick another with { name }`);
    }
    if (seen.has(m.name)) {
      throw new VpeftError(
        `method instance "${m.name}" appears twice; give the second its own name, e.g. ${m.definition.name}Method.configure(options, { name: '${m.name}-2' })`,
      );
    }
    seen.add(m.name);
  }
  return flat;
}
