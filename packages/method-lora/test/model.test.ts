import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, FUSED_KERNELS, initBackend } from '@vpeft/core';
import { bitEqual, createTestViT, largestRelativeDifference, maxAbsDiff, randomBatch, runWithAndWithoutFusedAttention, snapshot, trainSteps } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { lora } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe('LoRA on the tiny ViT', () => {
  it('is bit-identical to the frozen backbone at step 0, then changes only LoRA and head variables', () => {
    const backbone = createTestViT(3);
    const model = applyPeft(backbone, lora({ r: 4, alpha: 8 }), { numClasses: 4 });
    const batch = randomBatch(backbone, 3, 4);
    const plain = backbone.forward(batch.x);
    const adapted = model.features(batch.x);
    expect(bitEqual(plain.dataSync() as Float32Array, adapted.dataSync() as Float32Array)).toBe(true);
    const before = snapshot(model.parameters.list());
    trainSteps(model, batch, 3);
    const after = model.features(batch.x);
    expect(maxAbsDiff(plain.dataSync(), after.dataSync())).toBeGreaterThan(1e-4);
    const changed = model.parameters.list().filter((p) => !bitEqual(before.get(p.name)!, p.variable.dataSync() as Float32Array)).map((p) => p.name);
    expect(changed.sort()).toEqual(
      ['head.bias', 'head.weight', ...[0, 1].flatMap((i) => ['q', 'v'].flatMap((s) => [`lora.blocks.${i}.attn.qkv.lora_A.${s}`, `lora.blocks.${i}.attn.qkv.lora_B.${s}`]))].sort(),
    );
    tf.dispose([batch.x, batch.y, plain, adapted, after]);
    model.dispose({ backbone: true });
  });

  it('merges W += (alpha/r)·A·B into the qkv weight (checked in plain JS), agrees with unmerged logits and unmerges', () => {
    const backbone = createTestViT(4);
    const model = applyPeft(backbone, lora({ r: 2, alpha: 5, slices: ['v'] }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 2);
    const original = snapshot(backbone.parameters.list());
    const unmerged = model.predict(batch.x);
    model.merge();
    expect(model.isMerged).toBe(true);

    // Expected merged weight of block 1's qkv ([in 32, out 96]): the v columns 64..95 gain 2.5·A·B.
    const a = model.parameters.variable('lora.blocks.1.attn.qkv.lora_A.v').dataSync();
    const b = model.parameters.variable('lora.blocks.1.attn.qkv.lora_B.v').dataSync();
    const w = original.get('blocks.1.attn.qkv.weight')!;
    const expected = Float64Array.from(w);
    for (let i = 0; i < 32; i++) for (let j = 0; j < 32; j++) {
      let sum = 0;
      for (let k = 0; k < 2; k++) sum += a[i * 2 + k]! * b[k * 32 + j]!;
      expected[i * 96 + 64 + j] += 2.5 * sum;
    }
    expect(maxAbsDiff(backbone.parameters.variable('blocks.1.attn.qkv.weight').dataSync(), expected)).toBeLessThan(1e-6);

    const merged = model.predict(batch.x);
    expect(maxAbsDiff(unmerged.dataSync(), merged.dataSync())).toBeLessThan(1e-5);
    // A merged module no longer acts at its site (a backbone may then run that part off the tape).
    expect(model.chains.runner(true).active?.('blocks.1.attn.qkv')).toBe(false);
    model.unmerge();
    expect(model.chains.runner(true).active?.('blocks.1.attn.qkv')).toBe(true);
    expect(model.chains.runner(true).active?.('blocks.1.attn.proj')).toBe(false);
    for (const p of backbone.parameters.list()) expect(maxAbsDiff(original.get(p.name)!, p.variable.dataSync()), p.name).toBeLessThan(1e-6);
    tf.dispose([batch.x, batch.y, unmerged, merged]);
    model.dispose({ backbone: true });
  });
});

describe('LoRA on the tiny ViT: attention on the qkv layout', () => {
  it('takes the fused attention path on wasm (LoRA acts on the qkv linear, upstream) with the composed path\'s logits and gradients', async () => {
    await tf.setBackend('wasm');
    const backbone = createTestViT(6);
    const model = applyPeft(backbone, lora({ r: 4, alpha: 8 }), { numClasses: 3 });
    const batch = randomBatch(backbone, 2, 3);
    trainSteps(model, batch, 1); // LoRA's B leaves zero: its term reaches the attention
    const { fused, composed } = await runWithAndWithoutFusedAttention(model, batch.x);
    expect(fused.kernels.has(FUSED_KERNELS.qkvAttention) && fused.kernels.has(FUSED_KERNELS.qkvAttentionGrad)).toBe(true);
    expect(composed.kernels.has(FUSED_KERNELS.qkvAttention)).toBe(false);
    expect(fused.gradients.size).toBe(2 + 2 * 4); // head weight and bias; A and B of q and of v in 2 blocks
    // Rounding alone: core's attention test bounds the kernel's difference from the composed ops at ~1e-6
    // relative for this width; the 2-block network carries it to the logits and gradients well under 1e-4.
    expect(largestRelativeDifference(fused, composed)).toBeLessThan(1e-4);
    tf.dispose([batch.x, batch.y]);
    model.dispose({ backbone: true });
  });
});
