import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ADAPTER_WEIGHTS_FILE, applyPeft, initBackend, inputBatchSize, loadPeftModel, parseSafetensors, ParameterStore, type Backbone, type SiteInfo } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch, trainSteps } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { bitfit, lnTune, partial } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe('BitFit adapters', () => {
  it('hold only biases and the head, and reproduce the logits on a fresh backbone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-bitfit-'));
    try {
      const backbone = createTestViT(3);
      const model = applyPeft(backbone, bitfit(), { numClasses: 4 });
      const batch = randomBatch(backbone, 3, 4);
      trainSteps(model, batch, 3);
      await model.saveAdapter(dir);
      const file = parseSafetensors(new Uint8Array(await readFile(join(dir, ADAPTER_WEIGHTS_FILE))));
      const names = [...file.tensors.keys()];
      expect(names.every((n) => n.endsWith('.bias') || n === 'head.weight')).toBe(true);
      // Every bias of the backbone (2 blocks · 6 biases + patch-embed + final norm) plus the head's two tensors.
      expect(names).toHaveLength(2 * 6 + 2 + 2);
      const expected = model.predict(batch.x);
      const loaded = await loadPeftModel(createTestViT(3), dir);
      const actual = loaded.predict(batch.x);
      expect(maxAbsDiff(expected.dataSync(), actual.dataSync())).toBe(0);
      // And the trained biases matter: the untouched backbone gives other logits.
      const plain = applyPeft(createTestViT(3), [], { numClasses: 4 });
      plain.parameters.variable('head.weight').assign(model.parameters.variable('head.weight'));
      plain.parameters.variable('head.bias').assign(model.parameters.variable('head.bias'));
      const untrained = plain.predict(batch.x);
      expect(maxAbsDiff(expected.dataSync(), untrained.dataSync())).toBeGreaterThan(1e-4);
      tf.dispose([expected, actual, untrained, batch.x, batch.y]);
      for (const m of [model, loaded, plain]) m.dispose({ backbone: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('merge() reports partial-based methods as merged (their tensors are the base weights) and changes nothing', () => {
    const backbone = createTestViT(3);
    const model = applyPeft(backbone, [bitfit(), lnTune({ roles: ['norm-weight'] }), partial({ lastBlocks: 0, include: ['pos_embed'] })], { numClasses: 4 });
    const batch = randomBatch(backbone, 2, 4);
    trainSteps(model, batch, 2);
    const before = model.predict(batch.x);
    const report = model.merge();
    expect([...report.merged].sort()).toEqual(['bitfit', 'ln-tune', 'partial']);
    expect(report.kept).toEqual([]);
    const after = model.predict(batch.x);
    expect(maxAbsDiff(before.dataSync(), after.dataSync())).toBe(0);
    model.unmerge();
    tf.dispose([before, after, batch.x, batch.y]);
    model.dispose({ backbone: true });
  });

  it('on a CNN-like backbone selects conv/dense biases and BatchNorm betas, not kernels, gammas or moving statistics', () => {
    const parameters = new ParameterStore();
    const add = (name: string, shape: number[], role: Parameters<ParameterStore['create']>[2]) => parameters.create(name, tf.zeros(shape), role, 'backbone', false);
    add('conv1.kernel', [3, 3, 3, 8], 'weight');
    add('conv1.bias', [8], 'bias');
    add('bn1.gamma', [8], 'norm-weight');
    add('bn1.beta', [8], 'norm-bias');
    add('bn1.moving_mean', [8], 'other');
    add('bn1.moving_variance', [8], 'other');
    add('dense.kernel', [8, 4], 'weight');
    add('dense.bias', [4], 'bias');
    const backbone: Backbone = {
      specificationVersion: 'v1',
      config: { arch: 'toy-cnn' },
      inputShape: [4, 4, 3],
      featureDim: 4,
      parameters,
      sites: (): SiteInfo[] => [{ name: 'features', kind: 'features', dim: 4 }],
      forward: (images) => tf.zeros([inputBatchSize(images), 4]) as tf.Tensor2D,
      dispose: () => parameters.dispose(),
    };
    const model = applyPeft(backbone, bitfit(), { numClasses: 2 });
    const selected = model.trainableParameters().filter((p) => p.owner === 'backbone').map((p) => p.name);
    expect(selected).toEqual(['conv1.bias', 'bn1.beta', 'dense.bias']);
    expect(model.summary().rows.find((r) => r.owner === 'bitfit')!.trainable).toBe(8 + 8 + 4);
    model.dispose();
    // LN-tune on the same backbone: BatchNorm gamma and beta, nothing else.
    const normTuned = applyPeft(backbone, lnTune(), { numClasses: 2 });
    expect(normTuned.trainableParameters().filter((p) => p.owner === 'backbone').map((p) => p.name)).toEqual(['bn1.gamma', 'bn1.beta']);
    normTuned.dispose({ backbone: true });
  });
});
