import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, compose, defineMethod, FUSED_KERNELS, initBackend, type TokenLayout, type TransformContext } from '@vpeft/core';
import { createTestViT, largestRelativeDifference, maxAbsDiff, randomBatch, runWithAndWithoutFusedAttention, trainSteps } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { beforeAll, describe, expect, it } from 'vitest';
import { vpt } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

interface Seen { block: number; tokens: number[][][]; layout: TokenLayout }

/** A test-only method that records what enters each block's attention branch (and changes nothing). */
function probe(seen: Seen[]) {
  return defineMethod<{ on: boolean }>({
    name: 'probe',
    version: '0',
    category: 'addition',
    defaults: { on: true },
    targets: (sites) => sites.filter((s) => s.kind === 'branch' && s.branch === 'attn'),
    create: (site) => ({
      transform: (x: tf.Tensor3D, next: (t: tf.Tensor3D) => tf.Tensor3D, ctx: TransformContext) => {
        seen.push({ block: site.block!, tokens: x.arraySync(), layout: ctx.layout! });
        return next(x);
      },
    }),
  }).configure();
}

describe('VPT token layout', () => {
  it('shallow: blocks see N+p tokens, [CLS, prompts, patches]; the CLS readout stays at index 0', () => {
    const backbone = createTestViT(2);
    const seen: Seen[] = [];
    const model = applyPeft(backbone, compose(vpt({ tokens: 3 }), probe(seen)), { numClasses: 2 });
    const { x } = randomBatch(backbone, 2, 2);
    model.features(x);
    const patches = 16;
    expect(seen.map((s) => s.tokens[0]!.length)).toEqual([1 + 3 + patches, 1 + 3 + patches]);
    expect(seen[0]!.layout).toMatchObject({ prefix: 4, suffix: 0, grid: [4, 4], segments: { vpt: [1, 3] } });
    // The prompts entering block 0 are the parameter itself (no position embedding added).
    const prompts = model.parameters.variable('vpt.blocks.0.tokens.prompts').arraySync() as number[][][];
    expect(maxAbsDiff(seen[0]!.tokens[1]!.slice(1, 4).flat(), prompts[0]!.flat())).toBe(0);
    // The CLS token (position 0) and patches are those of the plain backbone's embedding.
    const plainSeen: Seen[] = [];
    const plain = applyPeft(createTestViT(2), probe(plainSeen), { numClasses: 2 });
    plain.features(x);
    expect(maxAbsDiff(seen[0]!.tokens[0]![0]!, plainSeen[0]!.tokens[0]![0]!)).toBe(0);
    expect(maxAbsDiff(seen[0]!.tokens[0]!.slice(4).flat(), plainSeen[0]!.tokens[0]!.slice(1).flat())).toBe(0);
  });

  it("deep: the prompts entering block i are block i's parameters, not block i-1's outputs", () => {
    const backbone = createTestViT(2);
    const seen: Seen[] = [];
    const model = applyPeft(backbone, compose(vpt({ tokens: 2, deep: true }), probe(seen)), { numClasses: 2 });
    const { x } = randomBatch(backbone, 1, 2);
    model.features(x);
    for (const block of [0, 1]) {
      const own = model.parameters.variable(`vpt.blocks.${block}.tokens.prompts`).arraySync() as number[][][];
      expect(maxAbsDiff(seen[block]!.tokens[0]!.slice(1, 3).flat(), own[0]!.flat())).toBe(0);
    }
  });

  it('append (NOAH): prompts after the patches; the patch grid is still found from the layout', () => {
    const backbone = createTestViT(2);
    const seen: Seen[] = [];
    const model = applyPeft(backbone, compose(vpt({ tokens: 3, position: 'append' }), probe(seen)), { numClasses: 2 });
    const { x } = randomBatch(backbone, 1, 2);
    model.features(x);
    expect(seen[0]!.layout).toMatchObject({ prefix: 1, suffix: 3, segments: { vpt: [17, 3] } });
    const prompts = model.parameters.variable('vpt.blocks.0.tokens.prompts').arraySync() as number[][][];
    expect(maxAbsDiff(seen[0]!.tokens[0]!.slice(17).flat(), prompts[0]!.flat())).toBe(0);
  });

  it('composes with LoRA: both train, the backbone stays bit-identical', () => {
    const backbone = createTestViT(2);
    const model = applyPeft(backbone, compose(vpt({ tokens: 4, deep: true }), lora({ r: 2 })), { numClasses: 3 });
    const before = new Map(model.parameters.list().map((p) => [p.name, p.variable.dataSync().slice()]));
    trainSteps(model, randomBatch(backbone, 4, 3), 3);
    for (const p of model.parameters.list()) {
      const changed = maxAbsDiff(before.get(p.name)!, p.variable.dataSync()) > 0;
      expect(changed, p.name).toBe(p.owner !== 'backbone');
    }
    expect(model.trainableParameters().some((p) => p.owner === 'vpt')).toBe(true);
    expect(model.trainableParameters().some((p) => p.owner === 'lora')).toBe(true);
  });
});

describe('VPT-deep and attention on the qkv layout', () => {
  it('takes the fused attention path on wasm (prompts change the tokens, upstream: N = 17 + 3) with the composed path\'s logits and gradients', async () => {
    await tf.setBackend('wasm');
    const backbone = createTestViT(7);
    const model = applyPeft(backbone, vpt({ tokens: 3, deep: true }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    const { fused, composed } = await runWithAndWithoutFusedAttention(model, batch.x);
    expect(fused.kernels.has(FUSED_KERNELS.qkvAttention) && fused.kernels.has(FUSED_KERNELS.qkvAttentionGrad)).toBe(true);
    expect(composed.kernels.has(FUSED_KERNELS.qkvAttention)).toBe(false);
    // Rounding alone: core's attention test bounds the kernel's difference from the composed ops at ~1e-6
    // relative for this width; the 2-block network carries it to the logits and gradients well under 1e-4.
    expect(largestRelativeDifference(fused, composed)).toBeLessThan(1e-4);
    tf.dispose([batch.x, batch.y]);
    model.dispose({ backbone: true });
  });
});
