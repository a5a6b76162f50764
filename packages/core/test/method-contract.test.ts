import { describe, expect, it } from 'vitest';
import {
  compose,
  defineMethod,
  flattenMethods,
  getMethod,
  hasMethod,
  listMethods,
  OptionError,
  registerMethod,
  UnknownMethodError,
  unregisterMethod,
  VpeftError,
  type Transform,
} from '../src/index';
import { biasSelect, outputScale } from './fixtures/test-methods';

describe('defineMethod', () => {
  it('rejects a bad name, a method with neither create nor select, and create without targets', () => {
    const base = { version: '1.0.0', category: 'addition' as const, defaults: {} };
    expect(() => defineMethod({ ...base, name: 'Bad Name', select: () => true })).toThrow(/method name "Bad Name" must be lowercase/);
    expect(() => defineMethod({ ...base, name: 'nothing' })).toThrow(/must implement create .* or select/);
    expect(() => defineMethod({ ...base, name: 'no-targets', create: () => ({ transform: ((x, next) => next(x)) as Transform<'linear'> }) })).toThrow(/implements create but not targets/);
  });

  it('configure fills defaults, rejects unknown options listing the known ones, validates after defaults, and freezes', () => {
    const instance = outputScale.configure();
    expect(instance).toMatchObject({ kind: 'method', name: 'core-test-scale', options: { targets: ['blocks.*.mlp.fc1'] } });
    expect(instance.definition).toBe(outputScale);
    expect(outputScale.configure({ targets: undefined }).options.targets).toEqual(['blocks.*.mlp.fc1']);
    expect(() => outputScale.configure({ rank: 4 } as never)).toThrow(/core-test-scale: option `rank` got 4; expected one of the options targets/);
    expect(() => outputScale.configure({ targets: [] })).toThrow(OptionError);
    expect(() => outputScale.configure({}, { name: 'Has Space' })).toThrow(/option `name`/);
    expect(outputScale.configure({}, { name: 'second' }).name).toBe('second');
    expect(Object.isFrozen(instance) && Object.isFrozen(instance.options) && Object.isFrozen(outputScale)).toBe(true);
    expect(outputScale.specificationVersion).toBe('v1');
  });
});

describe('compose', () => {
  const a = outputScale.configure();
  const b = biasSelect.configure();
  const c = outputScale.configure({ targets: ['blocks.*.mlp.fc2'] }, { name: 'scale-2' });

  it('flattens nested compositions in order and names the result after its parts', () => {
    const unified = compose(a, compose(b, c));
    expect(unified.kind).toBe('composed');
    expect(unified.name).toBe('core-test-scale+core-test-bias+scale-2');
    expect(unified.methods.map((m) => m.name)).toEqual(['core-test-scale', 'core-test-bias', 'scale-2']);
    expect(flattenMethods([a, compose(b, c)]).map((m) => m.name)).toEqual(unified.methods.map((m) => m.name));
    expect(flattenMethods(a)).toEqual([a]);
  });

  it('rejects an empty composition, duplicate instance names, reserved names and non-methods', () => {
    expect(() => compose()).toThrow(/at least one method/);
    expect(() => compose(a, outputScale.configure())).toThrow(/instance "core-test-scale" appears twice/);
    expect(() => compose(outputScale.configure({}, { name: 'head' }))).toThrow(/"head" is reserved/);
    expect(() => compose(outputScale.configure({}, { name: 'backbone' }))).toThrow(/"backbone" is reserved/);
    expect(() => flattenMethods([{ kind: 'other' } as never])).toThrow(VpeftError);
  });
});

describe('method registry', () => {
  it('registers by name, is idempotent for the same definition, and unregisters', () => {
    expect(hasMethod('core-test-scale')).toBe(false);
    registerMethod(outputScale);
    registerMethod(outputScale);
    expect(getMethod('core-test-scale')).toBe(outputScale);
    expect(listMethods()).toContain('core-test-scale');
    expect(listMethods()).toEqual([...listMethods()].sort());
    expect(unregisterMethod('core-test-scale')).toBe(true);
    expect(unregisterMethod('core-test-scale')).toBe(false);
    expect(hasMethod('core-test-scale')).toBe(false);
  });

  it('keeps the first of two copies of one package (ESM + CJS) and refuses another definition under a taken name', () => {
    registerMethod(outputScale);
    try {
      const sameRelease = defineMethod({ ...outputScale, name: 'core-test-scale' });
      registerMethod(sameRelease);
      expect(getMethod('core-test-scale')).toBe(outputScale);
      const other = defineMethod({ ...outputScale, version: '2.0.0' });
      expect(() => registerMethod(other)).toThrow(/method "core-test-scale" is already registered \(version 1\.0\.0 from @example\/core-test-scale\)/);
    } finally {
      unregisterMethod('core-test-scale');
    }
  });

  it('names the package to install only when the caller knows it (core names no method package)', () => {
    expect(() => getMethod('lora')).toThrow(/^method "lora" is not registered\. Registered methods: /);
    expect(() => getMethod('core-test-scale', '@example/core-test-scale')).toThrow(UnknownMethodError);
    expect(() => getMethod('core-test-scale', '@example/core-test-scale')).toThrow(/not registered; install and import @example\/core-test-scale\./);
  });
});
