import { compose, createViT, initBackend } from '@vpeft/core';
import { adapter } from '@vpeft/method-adapter';
import { bitfit } from '@vpeft/method-bitfit';
import { lora } from '@vpeft/method-lora';
import { vpt } from '@vpeft/method-vpt';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMultiTaskModel, formatMultiTaskSummary } from '../src/index';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// vit_test_patch8_32: width d = 32, 2 blocks, MLP width 4d = 128.
const d = 32;
const depth = 2;
const mlp = 4 * d;

describe('parameter counts', () => {
  it('counts shared modules once and each task its own modules and head (formula)', () => {
    const model = createMultiTaskModel(createViT('vit_test_patch8_32'), {
      shared: lora({ r: 4 }),
      tasks: [
        { name: 'a', numClasses: 3, methods: adapter({ bottleneck: 4 }) },
        { name: 'b', numClasses: 5, methods: compose(lora({ r: 2, targets: ['blocks.1.mlp.fc1'] }), vpt({ tokens: 3, deep: true })) },
        { name: 'c', numClasses: 7 },
      ],
    });
    const sharedLora = depth * 2 * 4 * (d + d); // q and v slices: r·(in + out) each
    const adapterA = depth * (d * 4 + 4 + 4 * d + d); // down + bias, up + bias on every MLP branch
    const loraB = 2 * (d + mlp); // one site, whole matrix
    const vptB = depth * 3 * d; // deep prompts in every block
    const head = (k: number) => d * k + k;
    const s = model.summary();
    expect(s.shared).toBe(sharedLora);
    expect(s.tasks).toEqual([
      { task: 'a', modules: adapterA, head: head(3), singleTaskEquivalent: sharedLora + adapterA + head(3) },
      { task: 'b', modules: loraB + vptB, head: head(5), singleTaskEquivalent: sharedLora + loraB + vptB + head(5) },
      { task: 'c', modules: 0, head: head(7), singleTaskEquivalent: sharedLora + head(7) },
    ]);
    const total = sharedLora + adapterA + loraB + vptB + head(3) + head(5) + head(7);
    expect(s.trainableTotal).toBe(total);
    expect(s.trainableExcludingHeads).toBe(total - head(3) - head(5) - head(7));
    expect(model.trainableVariables().reduce((n, v) => n + v.size, 0)).toBe(total);
    // Each task's single-task view trains exactly its single-task share.
    for (const t of s.tasks) expect(model.task(t.task).summary().trainableTotal).toBe(t.singleTaskEquivalent);
    expect(formatMultiTaskSummary(s)).toContain(`trainable in all: ${total.toLocaleString('en-US')}`);
    model.dispose({ backbone: true });
  });

  it('counts backbone parameters a shared partial method unfreezes under the shared part', () => {
    const model = createMultiTaskModel(createViT('vit_test_patch8_32'), {
      shared: bitfit(),
      tasks: [{ name: 'a', numClasses: 2 }, { name: 'b', numClasses: 2 }],
    });
    const biases = model.backbone.parameters.list().filter((p) => p.role === 'bias' || p.role === 'norm-bias').reduce((n, p) => n + p.variable.size, 0);
    expect(model.summary().shared).toBe(biases);
    expect(model.summary().trainableTotal).toBe(biases + 2 * (d * 2 + 2));
    model.dispose({ backbone: true });
  });
});
