import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, FUSED_KERNELS, initBackend, multiHeadAttention, type SiteInfo, type TransformContext } from '@vpeft/core';
import { createTestViT, largestRelativeDifference, maxAbsDiff, randomBatch, runWithAndWithoutFusedAttention, trainSteps } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldPrefixProjection, layerPrefixes, prefix, prefixTransform } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

/**
 * Plain attention over concatenated keys/values, in loops over JS arrays (independent of tfjs and of
 * the code under test): for each image, head and query, scores over [P_k; k], softmax, weighted sum
 * of [P_v; v]; heads merged back to [B, N, D].
 */
function referenceAttention(q: number[][][][], k: number[][][][], v: number[][][][], pk: number[][], pv: number[][]): number[][][] {
  const [batch, heads, n, hd] = [q.length, q[0]!.length, q[0]![0]!.length, q[0]![0]![0]!.length];
  const out = Array.from({ length: batch }, () => Array.from({ length: n }, () => new Array<number>(heads * hd).fill(0)));
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const keys = [...pk.map((row) => row.slice(h * hd, (h + 1) * hd)), ...k[b]![h]!];
      const values = [...pv.map((row) => row.slice(h * hd, (h + 1) * hd)), ...v[b]![h]!];
      for (let i = 0; i < n; i++) {
        const scores = keys.map((key) => key.reduce((s, x, j) => s + x * q[b]![h]![i]![j]!, 0) / Math.sqrt(hd));
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, e) => a + e, 0);
        for (let j = 0; j < hd; j++) out[b]![i]![h * hd + j] = values.reduce((s, value, m) => s + (exps[m]! / total) * value[j]!, 0);
      }
    }
  }
  return out;
}

describe('prefix attention', () => {
  it.each([false, true])('equals the plain concatenated-keys reference to 1e-5 (projection: %s)', (projection) => {
    const [batch, heads, n, hd, p] = [2, 4, 5, 8, 3];
    const d = heads * hd;
    const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
    const q = random([batch, heads, n, hd], 1) as tf.Tensor4D;
    const k = random([batch, heads, n, hd], 2) as tf.Tensor4D;
    const v = random([batch, heads, n, hd], 3) as tf.Tensor4D;
    const variable = (shape: number[], seed: number) => tf.variable(random(shape, seed));
    const source = projection
      ? { kind: 'projection' as const, shared: { embedding: variable([p, d], 4), fc1Weight: variable([d, 6], 5), fc1Bias: variable([6], 6) }, layer: { fc2Weight: variable([6, 2 * d], 7), fc2Bias: variable([2 * d], 8) } }
      : { kind: 'direct' as const, key: variable([p, d], 4), value: variable([p, d], 5) };
    const site: SiteInfo = { name: 'blocks.0.attn.core', kind: 'attention', dim: d, heads };
    const ctx: TransformContext = { site, training: false };
    const actual = prefixTransform(source)({ q, k, v }, multiHeadAttention, ctx);
    const { key, value } = layerPrefixes(source);
    const expected = referenceAttention(q.arraySync(), k.arraySync(), v.arraySync(), key.arraySync(), value.arraySync());
    expect(actual.shape).toEqual([batch, n, d]);
    expect(maxAbsDiff(actual.dataSync(), expected.flat(2))).toBeLessThan(1e-5);
    tf.dispose([q, k, v, actual, key, value]);
    tf.disposeVariables();
  });

  it('step 0: not an identity — every query spends attention on the prefixes — but small with the default std 0.02 init', () => {
    const backbone = createTestViT(1);
    const model = applyPeft(backbone, prefix({ tokens: 4 }), { numClasses: 3 });
    const { x } = randomBatch(backbone, 2, 3);
    const plain = backbone.forward(x);
    const prefixed = model.features(x);
    const diff = maxAbsDiff(plain.dataSync(), prefixed.dataSync());
    const scale = Math.max(...Array.from(plain.dataSync()).map(Math.abs));
    expect(diff).toBeGreaterThan(0);
    expect(diff / scale).toBeLessThan(1);
    tf.dispose([x, plain, prefixed]);
    model.dispose({ backbone: true });
  });

  it('folding the MLP gives the same outputs, plain prefixes and a smaller adapter', () => {
    const backbone = createTestViT(1);
    const model = applyPeft(backbone, prefix({ tokens: 3, projection: true, hidden: 16 }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 2);
    const before = model.predict(batch.x);
    const folded = foldPrefixProjection(model);
    const after = folded.predict(batch.x);
    const scale = Math.max(1, ...Array.from(before.dataSync()).map(Math.abs));
    expect(maxAbsDiff(before.dataSync(), after.dataSync()) / scale).toBeLessThan(1e-5);
    expect(folded.summary().trainableExcludingHead).toBe(2 * 2 * 3 * 32); // 2·L·p·D, vit_test_patch8_32
    expect(folded.parameters.has('prefix.mlp.fc1.weight')).toBe(false);
    expect(() => foldPrefixProjection(folded)).toThrow(/no MLP to fold/);
    expect(() => foldPrefixProjection(model, 'other')).toThrow(/no prefix instance named "other"/);
    tf.dispose([batch.x, batch.y, before, after]);
    model.dispose();
    folded.dispose({ backbone: true });
  });
});

describe('prefix tuning and attention on the qkv layout', () => {
  it('keeps the composed attention path (its transform changes k and v at the attention site): the fused kernels never run', async () => {
    await tf.setBackend('wasm');
    const backbone = createTestViT(8);
    const model = applyPeft(backbone, prefix({ tokens: 4 }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    const { fused, composed } = await runWithAndWithoutFusedAttention(model, batch.x);
    expect(fused.kernels.has(FUSED_KERNELS.qkvAttention) || fused.kernels.has(FUSED_KERNELS.qkvAttentionGrad)).toBe(false);
    expect(fused.kernels.has('SplitV')).toBe(true);
    // The same ops both times: the same bits.
    expect(largestRelativeDifference(fused, composed)).toBe(0);
    tf.dispose([batch.x, batch.y]);
    model.dispose({ backbone: true });
  });
});
