import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { globToRegExp } from '../src/params/glob';
import { ParameterStore } from '../src/params/parameter';

beforeAll(async () => {
  await initBackend();
});

describe('globToRegExp', () => {
  it('matches one segment with *, any with **, alternatives with {}', () => {
    expect(globToRegExp('blocks.*.attn.qkv').test('blocks.11.attn.qkv')).toBe(true);
    expect(globToRegExp('blocks.*.attn.qkv').test('blocks.1.1.attn.qkv')).toBe(false);
    expect(globToRegExp('blocks.**').test('blocks.3.mlp.fc1.weight')).toBe(true);
    expect(globToRegExp('**.bias').test('blocks.3.mlp.fc1.bias')).toBe(true);
    expect(globToRegExp('**.bias').test('norm.weight')).toBe(false);
    expect(globToRegExp('blocks.*.mlp.{fc1,fc2}').test('blocks.0.mlp.fc2')).toBe(true);
    expect(globToRegExp('blocks.*.mlp.{fc1,fc2}').test('blocks.0.mlp.fc3')).toBe(false);
  });
});

describe('ParameterStore', () => {
  it('freezes and unfreezes by glob, keeping tf.Variable.trainable in sync, and counts per owner', () => {
    const store = new ParameterStore();
    store.create('a.weight', tf.zeros([3, 4]), 'weight', 'backbone', true);
    store.create('a.bias', tf.zeros([4]), 'bias', 'backbone', true);
    store.create('lora.a.lora_A', tf.zeros([3, 2]), 'weight', 'lora', true);
    expect(store.freeze()).toBe(3);
    expect(store.list().every((p) => !p.trainable && !p.variable.trainable)).toBe(true);
    expect(store.unfreeze('**.bias')).toBe(1);
    expect(store.get('a.bias').variable.trainable).toBe(true);
    expect(store.countsByOwner()).toEqual([
      { owner: 'backbone', total: 16, trainable: 4 },
      { owner: 'lora', total: 6, trainable: 0 },
    ]);
    expect(() => store.get('a.bais')).toThrow(/a\.weight/);
    store.dispose();
  });
});

describe('one trainable flag per parameter', () => {
  it("a stored parameter's trainable is its variable's own flag, both ways, and it keeps its declared place", () => {
    const store = new ParameterStore();
    const p = store.create('blocks.3.w', tf.zeros([2]), 'weight', 'backbone', false, { block: 3, stage: 1 });
    expect(p.block).toBe(3);
    expect(p.stage).toBe(1);
    p.variable.trainable = true;
    expect(p.trainable).toBe(true);
    p.trainable = false;
    expect(p.variable.trainable).toBe(false);
    const added = store.add({ name: 'x', variable: tf.variable(tf.zeros([1])), role: 'other', owner: 'backbone', trainable: false });
    expect(added.variable.trainable).toBe(false);
    store.dispose();
  });
});
