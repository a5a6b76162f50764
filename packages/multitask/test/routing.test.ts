import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, compose, initBackend, type PeftModel } from '@vpeft/core';
import { createTestViT, maxAbsDiff } from '@vpeft/core/testing';
import { adapter } from '@vpeft/method-adapter';
import { lora } from '@vpeft/method-lora';
import { vpt } from '@vpeft/method-vpt';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMultiTaskModel, type MultiTaskModel } from '../src/index';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Shared LoRA; task `a`: an adapter; task `b`: its own LoRA and deep prompts (a longer token sequence than `a`). */
function build(): MultiTaskModel {
  return createMultiTaskModel(createTestViT(1), {
    shared: lora({ r: 4 }),
    tasks: [
      { name: 'a', numClasses: 3, methods: adapter({ bottleneck: 4 }) },
      { name: 'b', numClasses: 5, methods: compose(lora({ r: 2, targets: ['blocks.1.mlp.fc1'] }), vpt({ tokens: 3, deep: true })) },
    ],
    seed: 3,
  });
}

/** Random values in every trainable variable, so zero-initialised modules act. */
function randomize(model: MultiTaskModel): void {
  model.trainableParameters().forEach((p, i) => {
    tf.tidy(() => p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.2, 'float32', 100 + i)));
  });
}

/**
 * The single-task model of a task built independently with applyPeft from the same methods (task
 * instances named `<task>-<name>`), on its own copy of the backbone, with the multi-task values copied in.
 */
function singleTask(model: MultiTaskModel, task: 'a' | 'b'): PeftModel {
  const methods = task === 'a'
    ? compose(lora({ r: 4 }), adapter({ bottleneck: 4 }, { name: 'a-adapter' }))
    : compose(lora({ r: 4 }), lora({ r: 2, targets: ['blocks.1.mlp.fc1'] }, { name: 'b-lora' }), vpt({ tokens: 3, deep: true }, { name: 'b-vpt' }));
  const single = applyPeft(createTestViT(1), methods, { numClasses: task === 'a' ? 3 : 5 });
  for (const p of single.trainableParameters()) {
    const source = p.name.startsWith('head.') ? `heads.${task}.${p.name.slice(5)}` : p.name;
    p.variable.assign(model.parameters.variable(source));
  }
  return single;
}

const TASKS = ['a', 'b', 'b', 'a', 'b', 'a', 'a'];

describe('routing inside a mixed batch', () => {
  it('gives each sample the logits of its single-task model (1e-5)', () => {
    const model = build();
    randomize(model);
    const images = tf.randomNormal([TASKS.length, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const outputs = model.forward(images, TASKS);
    expect(outputs.map((o) => [o.task, o.indices])).toEqual([['a', [0, 3, 5, 6]], ['b', [1, 2, 4]]]);
    for (const { task, indices, logits } of outputs) {
      const single = singleTask(model, task as 'a' | 'b');
      // Each sample alone through the single-task model.
      for (let row = 0; row < indices.length; row++) {
        const expected = tf.tidy(() => single.forward(tf.slice(images, [indices[row]!, 0, 0, 0], [1, -1, -1, -1])));
        const actual = tf.tidy(() => tf.slice(logits, [row, 0], [1, -1]));
        expect(actual.shape).toEqual(expected.shape);
        expect(maxAbsDiff(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
        tf.dispose([expected, actual]);
      }
      single.dispose({ backbone: true });
      logits.dispose();
    }
    images.dispose();
    model.dispose({ backbone: true });
  });

  it('sends gradients only to the shared modules and those of the tasks present', () => {
    const model = build();
    randomize(model);
    const images = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const names = new Map(model.trainableParameters().map((p) => [p.variable.name, p]));
    const owned = (grads: tf.NamedTensorMap) => new Set(Object.keys(grads).map((n) => {
      const p = names.get(n)!;
      return p.owner === 'head' ? p.name.split('.').slice(0, 2).join('.') : p.owner;
    }));
    const lossOf = (tasks: string[]) => () =>
      tf.addN(model.forward(images, tasks, { training: true }).map((o) => tf.sum(tf.square(o.logits)))) as tf.Scalar;

    const onlyA = tf.variableGrads(lossOf(['a', 'a', 'a', 'a']), model.trainableVariables());
    expect(owned(onlyA.grads)).toEqual(new Set(['lora', 'a-adapter', 'heads.a']));
    for (const g of Object.values(onlyA.grads)) expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([onlyA.value, onlyA.grads]);

    const mixed = tf.variableGrads(lossOf(['b', 'a', 'b', 'a']), model.trainableVariables());
    expect(owned(mixed.grads)).toEqual(new Set(['lora', 'a-adapter', 'heads.a', 'b-lora', 'b-vpt', 'heads.b']));
    tf.dispose([mixed.value, mixed.grads]);
    images.dispose();
    model.dispose({ backbone: true });
  });

  it('rejects a batch naming a task the model does not have, and a task count that does not match the images', () => {
    const model = build();
    const images = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.forward(images, ['a', 'digits'])).toThrow('batch sample 1 has task "digits", which this model does not have; its tasks: a, b');
    expect(() => model.forward(images, ['a'])).toThrow('2 images but 1 task names');
    images.dispose();
    model.dispose({ backbone: true });
  });

  it('keeps the tensor count flat across forward passes', () => {
    const model = build();
    const images = tf.randomNormal([3, 32, 32, 3]) as tf.Tensor4D;
    const run = () => tf.tidy(() => { model.forward(images, ['a', 'b', 'a'], { training: true }); });
    run();
    const before = tf.memory().numTensors;
    run();
    run();
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    model.dispose({ backbone: true });
  });
});
