import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, initBackend } from '@vpeft/core';
import { describeMethodConformance } from '@vpeft/core/testing';
import { adapter } from '@vpeft/method-adapter';
import { bitfit, lnTune, partial } from '@vpeft/method-bitfit';
import { lora } from '@vpeft/method-lora';
import { vpt } from '@vpeft/method-vpt';
import { describe, expect, it } from 'vitest';
import { createSwin, stageWindow, swinConfigs, type Swin } from '../src/index';

/** The test Swin with every parameter perturbed (no trivially zero biases or unit norms), deterministic in the seed. */
function testSwin(seed: number): Swin {
  const swin = createSwin('swin_test_patch2_window2_32', { seed });
  let i = 0;
  for (const p of swin.parameters.list()) {
    tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.05, 'float32', seed * 1000 + i++))));
  }
  return swin;
}

describeMethodConformance({
  name: 'LoRA on Swin (q, v of every block; fc1/fc2; the patch-merging reductions)',
  methods: () => lora({ r: 2, targets: ['layers.*.blocks.*.attn.qkv', 'layers.*.blocks.*.mlp.fc{1,2}', 'layers.*.downsample.reduction'] }),
  backbone: testSwin,
});
describeMethodConformance({ name: 'adapter (Houlsby) on Swin', methods: () => adapter({ bottleneck: 4, placement: 'houlsby' }), backbone: testSwin });
describeMethodConformance({ name: 'BitFit on Swin', methods: () => bitfit(), backbone: testSwin });
describeMethodConformance({ name: 'LN-tune on Swin', methods: () => lnTune(), backbone: testSwin });
describeMethodConformance({ name: 'partial (last 2 blocks, from the blocks Swin declares) on Swin', methods: () => partial({ lastBlocks: 2 }), backbone: testSwin });

describe('partial on Swin selects by declared block, not by name', () => {
  it('lastBlocks 1 trains the last block (stage 3, width 64), not the patch merging before it', async () => {
    await initBackend();
    const swin = createSwin('swin_test_patch2_window2_32');
    const model = applyPeft(swin, partial({ lastBlocks: 1 }), { numClasses: 2 });
    const d = 64;
    const w = stageWindow(swinConfigs.swin_test_patch2_window2_32, 3);
    // norm1, qkv, relative position bias table (8 heads), proj, norm2, fc1, fc2 of one block of width 64.
    const block = 2 * d + (d * 3 * d + 3 * d) + (2 * w - 1) ** 2 * 8 + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
    expect(model.summary().trainableTotal - (d * 2 + 2)).toBe(block);
    expect(model.parameters.list().filter((p) => p.trainable && p.owner === 'backbone').every((p) => p.name.startsWith('layers.3.blocks.0.'))).toBe(true);
    model.dispose({ backbone: true });
  });
});
describeMethodConformance({ name: 'VPT deep on Swin (per-block prompts of each stage width)', methods: () => vpt({ tokens: 3, deep: true }), backbone: testSwin });
describeMethodConformance({ name: 'VPT shallow, appended, on Swin', methods: () => vpt({ tokens: 2, position: 'append' }), backbone: testSwin });

describe('VPT on Swin, as the VPT paper does it', () => {
  it('deep prompts: one set per block, each of its stage width (8, 16, 32, 64)', async () => {
    await initBackend();
    const swin = testSwin(3);
    const model = applyPeft(swin, vpt({ tokens: 5, deep: true }), { numClasses: 4 });
    const prompts = model.parameters.list().filter((p) => p.owner === 'vpt');
    expect(prompts.map((p) => p.variable.shape)).toEqual([
      [1, 5, 8], [1, 5, 8], [1, 5, 16], [1, 5, 16], [1, 5, 32], [1, 5, 32], [1, 5, 64],
    ]);
    model.dispose({ backbone: true });
  });

  it('prompts take part in window attention: the pooled features change and keep the width', async () => {
    await initBackend();
    const swin = testSwin(4);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const plain = swin.forward(x);
    const model = applyPeft(swin, vpt({ tokens: 3, deep: false }), { numClasses: 4 });
    const prompted = model.features(x);
    expect(prompted.shape).toEqual([2, 64]);
    expect(tf.max(tf.abs(tf.sub(prompted, plain))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, plain, prompted]);
    model.dispose({ backbone: true });
  });
});
