import { applyPeft, initBackend } from '@vpeft/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssf } from '../src/index';
import { tinyLayersCnn } from './tiny-layers-cnn';

beforeAll(async () => {
  await initBackend();
});

describe('ssf options and targets', () => {
  it('rejects bad options with the option name, the value and what is allowed', () => {
    expect(() => ssf({ std: -1 })).toThrow(/std.*-1.*non-negative/);
    expect(() => ssf({ targets: [] })).toThrow(/targets/);
    expect(() => ssf({ bogus: 1 } as never)).toThrow(/bogus/);
  });

  it('refuses sites it could not fold into, saying what to target instead', () => {
    const cnn = tinyLayersCnn(1);
    // `conv` and `dw` have no bias (their BatchNorm carries it).
    expect(() => applyPeft(cnn, ssf({ targets: ['conv'] }), { numClasses: 2 })).toThrow(/conv has none.*BatchNormalization/);
    expect(() => applyPeft(cnn, ssf({ targets: ['dw'] }), { numClasses: 2 })).toThrow(/dw has none/);
    expect(() => applyPeft(cnn, ssf({ targets: ['nosuch*'] }), { numClasses: 2 })).toThrow(/targets.*nosuch/);
    cnn.dispose();
  });
});
