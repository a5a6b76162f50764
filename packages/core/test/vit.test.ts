import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { applyPeft } from '../src/model/apply-peft';
import { createTestViT, maxAbsDiff, randomBatch } from '../src/testing/fixtures';
import { trainSteps } from '../src/testing/train-steps';
import { vitConfigs } from '../src/vit/config';
import { createViT } from '../src/vit/vit';
import type { SiteRunner } from '../src/sites/site';

beforeAll(async () => {
  await initBackend();
});

/** Backbone parameter count of a timm ViT from its shape (timm's figure minus its 1000-class head). */
function timmBackboneParams(d: number, depth: number, mlp: number, patch: number, tokens: number): number {
  const block = 3 * d * d + 3 * d + d * d + d + d * mlp + mlp + mlp * d + d + 4 * d;
  return 3 * patch * patch * d + d + d + tokens * d + depth * block + 2 * d;
}

describe('ViT', () => {
  it('has timm parameter counts (ViT-Ti 5,717,416 and ViT-S 22,050,664 with a 1000-class head)', () => {
    // Published timm totals include the head: D·1000 + 1000.
    for (const [name, total] of [['vit_tiny_patch16_224', 5_717_416], ['vit_small_patch16_224', 22_050_664]] as const) {
      const vit = createViT(name);
      const d = vit.config.embedDim;
      const backbone = vit.parameters.count();
      expect(backbone).toBe(total - (d * 1000 + 1000));
      expect(backbone).toBe(timmBackboneParams(d, 12, 4 * d, 16, 197));
      vit.dispose();
    }
  });

  it('declares timm-named sites in forward order', () => {
    const vit = createViT('vit_test_patch8_32');
    const names = vit.sites().map((s) => s.name);
    expect(names.slice(0, 7)).toEqual(['patch_embed.proj', 'embed.output', 'blocks.0.tokens', 'blocks.0.attn', 'blocks.0.norm1', 'blocks.0.attn.qkv', 'blocks.0.attn.core']);
    expect(names.slice(7, 12)).toEqual(['blocks.0.attn.proj', 'blocks.0.mlp', 'blocks.0.norm2', 'blocks.0.mlp.fc1', 'blocks.0.mlp.fc2']);
    expect(names.slice(12, 14)).toEqual(['blocks.0.output', 'blocks.1.tokens']);
    expect(names.at(-1)).toBe('features');
    expect(vit.sites().find((s) => s.name === 'blocks.1.attn.core')).toMatchObject({ kind: 'attention', block: 1, dim: 32, heads: 4 });
    expect(vit.sites().filter((s) => s.kind === 'tap').map((s) => s.name)).toEqual(['embed.output', 'blocks.0.output', 'blocks.1.output']);
    const qkv = vit.sites().find((s) => s.name === 'blocks.1.attn.qkv')!;
    expect(qkv).toMatchObject({ kind: 'linear', inFeatures: 32, outFeatures: 96, slices: { q: [0, 32], k: [32, 64], v: [64, 96] } });
    vit.dispose();
  });

  it('accepts another input size by resampling the position embedding, and rejects bad inputs', () => {
    const vit = createTestViT(3);
    const x = tf.randomNormal([2, 48, 48, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = vit.forward(x);
    expect(y.shape).toEqual([2, vitConfigs.vit_test_patch8_32.embedDim]);
    expect(() => vit.forward(tf.zeros([1, 30, 32, 3]) as tf.Tensor4D)).toThrow(/multiples of 8/);
    expect(() => vit.forward(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D)).toThrow(/images/);
    tf.dispose([x, y]);
    vit.dispose();
  });

  it('processes each image independently (batching does not mix samples)', () => {
    const vit = createTestViT(4);
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const all = vit.forward(x).arraySync();
    const one = vit.forward(tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D).arraySync();
    expect(maxAbsDiff(all[1]!, one[0]!)).toBeLessThan(1e-5);
    vit.dispose();
  });

  it('applies drop-path only in training', () => {
    const vit = createViT({ base: 'vit_test_patch8_32', dropPathRate: 0.5 }, { seed: 2 });
    const x = tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const a = vit.forward(x).dataSync();
    const b = vit.forward(x).dataSync();
    expect(maxAbsDiff(a, b)).toBe(0);
    const t = vit.forward(x, { training: true }).dataSync();
    expect(maxAbsDiff(a, t)).toBeGreaterThan(1e-3);
    vit.dispose();
  });

  it('linear probe: gradients reach only the head, and the tensor count is flat over 20 steps', () => {
    const vit = createTestViT(5);
    const model = applyPeft(vit, [], { numClasses: 4 });
    expect(model.trainableParameters().map((p) => p.name)).toEqual(['head.weight', 'head.bias']);
    const batch = randomBatch(vit, 4, 4);
    const optimizer = tf.train.adam(1e-2);
    const counts: number[] = [];
    const losses = trainSteps(model, batch, 20, { optimizer, afterStep: () => counts.push(tf.memory().numTensors) });
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    optimizer.dispose();
    model.dispose({ backbone: true });
  });

  it('inference keeps only the running sequence alive (no leak, bounded intermediates)', () => {
    const vit = createTestViT(6);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const y = vit.forward(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
    vit.dispose();
  });
});

describe('linear probe off the tape', () => {
  it('gives the head the analytic softmax-regression gradient Xᵀ(p − y)/B and records no backbone op', () => {
    const vit = createTestViT(7);
    const model = applyPeft(vit, [], { numClasses: 3 });
    const { x, y } = randomBatch(vit, 4, 3);
    const features = model.features(x).arraySync();
    const w = model.parameters.variable('head.weight').arraySync() as number[][];
    const b = model.parameters.variable('head.bias').arraySync() as number[];
    const labels = Array.from(y.dataSync());
    // Reference in plain JS: p = softmax(X W + b); dW = Xᵀ(p − onehot)/B.
    const expected = w.map((row) => row.map(() => 0));
    features.forEach((f, n) => {
      const logits = b.map((bias, c) => bias + f.reduce((s, v, k) => s + v * w[k]![c]!, 0));
      const max = Math.max(...logits);
      const exp = logits.map((l) => Math.exp(l - max));
      const sum = exp.reduce((a, v) => a + v, 0);
      exp.forEach((e, c) => f.forEach((v, k) => (expected[k]![c]! += (v * (e / sum - (labels[n] === c ? 1 : 0))) / features.length)));
    });
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), model.forward(x, { training: true })) as tf.Scalar,
      model.trainableVariables(),
    );
    expect(maxAbsDiff(grads[model.parameters.variable('head.weight').name]!.dataSync(), expected.flat())).toBeLessThan(1e-5);
    tf.dispose([value, grads]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose({ backbone: true });
  });
});

describe('ViT frozen prefix off the tape', () => {
  it('tuning only the last block gives the fully taped gradients and keeps the earlier blocks off the tape', () => {
    const backbone = createTestViT(3);
    const model = applyPeft(backbone, [], { numClasses: 3 });
    const depth = vitConfigs.vit_test_patch8_32.depth;
    const last = `blocks.${depth - 1}.**`;
    expect(model.parameters.unfreeze(last)).toBeGreaterThan(0);
    const head = model.parameters.variable('head.weight');
    head.assign(tf.randomNormal(head.shape, 0, 0.5, 'float32', 4));
    const batch = randomBatch(backbone, 4, 3);
    const y = tf.oneHot(batch.y, 3);
    const variables = model.trainableParameters().map((p) => p.variable);
    const pass = (sites: SiteRunner) => {
      let bytes = 0;
      const { value, grads } = tf.variableGrads(() => {
        const features = backbone.forward(batch.x, { training: true, sites });
        bytes = tf.memory().numBytes;
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(features, head), model.parameters.variable('head.bias')));
      }, variables);
      value.dispose();
      return { grads, bytes };
    };
    const before = tf.memory().numBytes;
    const runner = model.chains.runner(true);
    const lean = pass(runner);
    const full = pass({ run: runner.run }); // no `active`: the backbone tapes every stage
    for (const v of variables) {
      expect(maxAbsDiff(lean.grads[v.name]!.dataSync(), full.grads[v.name]!.dataSync()), v.name).toBeLessThan(1e-6);
    }
    expect(Math.max(...Array.from(lean.grads[model.parameters.variable(`blocks.${depth - 1}.mlp.fc2.weight`).name]!.dataSync(), Math.abs))).toBeGreaterThan(0);
    // Live activations: only the last block's (and the off-tape output) against every block's.
    expect(lean.bytes - before).toBeLessThan((full.bytes - before) / depth + 64 * 1024);
    tf.dispose([batch.x, batch.y, y, ...Object.values(lean.grads), ...Object.values(full.grads)]);
    model.dispose({ backbone: true });
  });
});
