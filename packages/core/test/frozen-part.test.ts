import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { applyPeft, createViT, initBackend, inputBatchSize, sliceInput } from '../src/index';
import { createTestViT, describeFrozenPartConformance, randomBatch } from '../src/testing/index';

describeFrozenPartConformance({
  name: 'ViT',
  backbone: createTestViT,
  cases: [
    { name: 'linear probe (the whole ViT is frozen)', model: (b) => applyPeft(b, [], { numClasses: 3 }) },
    {
      name: 'block 1 trains (the embedding and block 0 are frozen)',
      model: (b) => {
        const model = applyPeft(b, [], { numClasses: 3 });
        model.parameters.setTrainable('blocks.1.norm1.weight', true);
        return model;
      },
    },
  ],
});

describe('frozen part of the ViT', () => {
  it('describes the split and says why there is none', async () => {
    await initBackend();
    const model = applyPeft(createTestViT(), [], { numClasses: 3 });
    const whole = model.frozenPart();
    expect(whole).toMatchObject({ description: 'the whole ViT up to the final norm (embedding + 2 blocks)' });
    model.parameters.setTrainable('blocks.0.mlp.fc1.bias', true);
    expect(model.frozenPart()).toEqual({ reason: 'a method acts in (or trains) block 0, so no block is frozen' });
    model.dispose({ backbone: true });
    const dropPath = applyPeft(createViTWithDropPath(), [], { numClasses: 3 });
    expect(dropPath.frozenPart()).toEqual({ reason: "drop-path (rate 0.1) makes the frozen blocks' output random in training" });
    dropPath.dispose({ backbone: true });
  });

  it('slices and counts a frozen output like images', async () => {
    await initBackend();
    const backbone = createTestViT();
    const model = applyPeft(backbone, [], { numClasses: 3 });
    const { x, y } = randomBatch(backbone, 5, 3);
    const output = model.frozenOutput(x);
    expect(inputBatchSize(output)).toBe(5);
    const part = sliceInput(output, 1, 3);
    expect(inputBatchSize(part)).toBe(3);
    const whole = model.predict(output, { batchSize: 2 });
    const direct = model.predict(x);
    expect(Array.from(await whole.data())).toEqual(Array.from(await direct.data()));
    tf.dispose([x, y, whole, direct, ...Object.values(output.tensors), ...Object.values((part as typeof output).tensors)]);
    model.dispose({ backbone: true });
  });
});

function createViTWithDropPath() {
  const base = createViT('vit_test_patch8_32', { seed: 1 });
  const config = { ...base.config, dropPathRate: 0.1 };
  base.dispose();
  return createViT(config, { seed: 1 });
}
