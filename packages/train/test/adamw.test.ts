import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type Parameter } from '@vpeft/core';
import { createTestViT, maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, decaysWeight } from '../src/index';
import { createTrainableModel } from './fixtures/setup';

beforeAll(async () => {
  await initBackend();
});

/** PyTorch's AdamW for one scalar, written out from the algorithm box in its docs (float64). */
function referenceAdamW(w0: number, gradients: number[], lrs: number[], wd: number, decay: boolean): number {
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  let w = w0;
  let m = 0;
  let v = 0;
  gradients.forEach((g, i) => {
    const t = i + 1;
    const lr = lrs[i]!;
    if (decay) w = w - lr * wd * w;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** t);
    const vHat = v / (1 - b2 ** t);
    w = w - (lr * mHat) / (Math.sqrt(vHat) + eps);
  });
  return w;
}

describe('AdamW', () => {
  it('matches a hand-computed two-step update, with decay on weights only and the lr changed between steps', () => {
    const w0 = [0.5, -1.25, 2, 0.01];
    const b0 = [0.3, -0.7];
    const weight = tf.variable(tf.tensor2d(w0, [2, 2]), true, 'adamw-test/weight');
    const bias = tf.variable(tf.tensor1d(b0), true, 'adamw-test/bias');
    const optimizer = new AdamW(
      [
        { name: 'w', variable: weight, decay: true },
        { name: 'b', variable: bias, decay: false },
      ],
      { learningRate: 0.1, weightDecay: 0.05 },
    );
    const gradW = [[0.2, -0.4, 1.5, 0.001], [-0.1, 0.3, 0.7, -2]];
    const gradB = [[0.05, -0.5], [0.25, 0.125]];
    const lrs = [0.1, 0.03];
    for (let step = 0; step < 2; step++) {
      optimizer.learningRate = lrs[step]!;
      const grads = { [weight.name]: tf.tensor2d(gradW[step]!, [2, 2]), [bias.name]: tf.tensor1d(gradB[step]!) };
      optimizer.applyGradients(grads);
      tf.dispose(grads);
    }
    const expectedW = w0.map((w, i) => referenceAdamW(w, [gradW[0]![i]!, gradW[1]![i]!], lrs, 0.05, true));
    const expectedB = b0.map((b, i) => referenceAdamW(b, [gradB[0]![i]!, gradB[1]![i]!], lrs, 0.05, false));
    expect(maxAbsDiff(weight.dataSync(), expectedW)).toBeLessThan(1e-6);
    expect(maxAbsDiff(bias.dataSync(), expectedB)).toBeLessThan(1e-6);
    // Decay must matter here: the same run without decay lands elsewhere.
    const undecayed = w0.map((w, i) => referenceAdamW(w, [gradW[0]![i]!, gradW[1]![i]!], lrs, 0.05, false));
    expect(maxAbsDiff(weight.dataSync(), undecayed)).toBeGreaterThan(1e-4);
    expect(optimizer.step).toBe(2);
    optimizer.dispose();
    tf.dispose([weight, bias]);
  });

  it('continues identically after exporting and importing its state', async () => {
    const make = () => tf.variable(tf.tensor1d([1, -2, 3]), true);
    const a = make();
    const b = make();
    const first = new AdamW([{ name: 'p', variable: a, decay: true }], { learningRate: 0.01, weightDecay: 0.1 });
    const second = new AdamW([{ name: 'p', variable: b, decay: true }], { learningRate: 0.01, weightDecay: 0.1 });
    const grads = [tf.tensor1d([0.1, 0.2, -0.3]), tf.tensor1d([-1, 0.5, 0.25]), tf.tensor1d([0.3, 0.3, 0.3])];
    first.applyGradients({ [a.name]: grads[0]! });
    first.applyGradients({ [a.name]: grads[1]! });
    b.assign(a);
    second.importState(await first.exportState());
    first.applyGradients({ [a.name]: grads[2]! });
    second.applyGradients({ [b.name]: grads[2]! });
    expect(a.dataSync().every(Number.isFinite)).toBe(true);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(second.step).toBe(3);
    first.dispose();
    second.dispose();
    tf.dispose([a, b, ...grads]);
  });

  it('creates its moments up front, so the tensor count does not change at the first step', () => {
    const v = tf.variable(tf.ones([3]));
    const optimizer = new AdamW([{ name: 'v', variable: v, decay: true }], { learningRate: 0.1 });
    const g = tf.ones([3]);
    const before = tf.memory().numTensors;
    optimizer.applyGradients({ [v.name]: g });
    optimizer.applyGradients({ [v.name]: g });
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    tf.dispose([v, g]);
  });

  it('rejects bad hyper-parameters and gradients for unknown variables', () => {
    const v = tf.variable(tf.ones([1]));
    expect(() => new AdamW([{ name: 'v', variable: v, decay: true }], { learningRate: -1 })).toThrow(/learningRate.*-1.*> 0/);
    expect(() => new AdamW([{ name: 'v', variable: v, decay: true }], { learningRate: 1, beta2: 1 })).toThrow(/beta2/);
    const optimizer = new AdamW([], { learningRate: 1 });
    const g = tf.ones([1]);
    expect(() => optimizer.applyGradients({ [v.name]: g })).toThrow(/AdamW was built with/);
    optimizer.dispose();
    tf.dispose([v, g]);
  });
});

describe('weight-decay groups (timm param_groups_weight_decay)', () => {
  it('decays 2-D weights and the head, never biases, norms, pos_embed or cls_token', () => {
    const model = createTrainableModel(createTestViT());
    model.parameters.unfreeze('**');
    const decayed = (name: string) => decaysWeight(model.parameters.get(name));
    expect(decayed('blocks.0.attn.qkv.weight')).toBe(true);
    expect(decayed('blocks.1.mlp.fc2.weight')).toBe(true);
    expect(decayed('patch_embed.proj.weight')).toBe(true);
    expect(decayed('head.weight')).toBe(true);
    expect(decayed('blocks.0.attn.qkv.bias')).toBe(false);
    expect(decayed('blocks.0.norm1.weight')).toBe(false);
    expect(decayed('norm.bias')).toBe(false);
    expect(decayed('head.bias')).toBe(false);
    expect(decayed('pos_embed')).toBe(false);
    expect(decayed('cls_token')).toBe(false);
    // timm's rule on its own (ndim <= 1 or .bias or skip list) agrees on every ViT parameter.
    const timmRule = (p: Parameter) => !(p.variable.shape.length <= 1 || p.name.endsWith('.bias') || ['pos_embed', 'cls_token', 'dist_token'].includes(p.name));
    for (const p of model.parameters.list()) expect(decaysWeight(p), p.name).toBe(timmRule(p));
    // A user skip list adds names.
    expect(decaysWeight(model.parameters.get('head.weight'), ['head.*'])).toBe(false);
    model.dispose({ backbone: true });
  });
});
