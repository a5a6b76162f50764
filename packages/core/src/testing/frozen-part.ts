import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, type BackendChoice } from '../backend/backend';
import type { Backbone } from '../backbone/backbone';
import { inputTensors } from '../backbone/frozen-output';
import type { PeftModel } from '../model/peft-model';
import { maxAbsDiff, randomBatch } from './fixtures';

/** One way of making a model whose leading part is frozen (a method on the last blocks, a probe, ...). */
export interface FrozenPartCase {
  /** e.g. `linear probe`, `LoRA on the last block`. */
  name: string;
  /** Builds the model on `backbone` (and makes whatever it trains trainable). */
  model: (backbone: Backbone) => PeftModel;
}

/** Options for {@link describeFrozenPartConformance}. */
export interface FrozenPartConformanceOptions {
  /** Title of the test group. */
  name: string;
  /** Makes the backbone; deterministic in the seed. */
  backbone: (seed: number) => Backbone;
  cases: FrozenPartCase[];
  /** Backend to run on (default: the auto choice). */
  backend?: BackendChoice;
  /** Images per test batch (default 3). */
  batch?: number;
  /** Largest |difference| allowed between the cached and the direct pass (default 0: bit-identical). */
  tolerance?: number;
}

function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar;
}

/**
 * The frozen-part contract of a backbone that implements `frozenPart` / `runFrozenPart` (what a
 * feature cache relies on): for each case, the model's frozen part is declared; running the rest of
 * the pass from `frozenOutput(images)` gives the logits (inference and training) and the gradients
 * of every trainable variable that the pass from the images gives; a frozen output is refused by a
 * backbone of another configuration; nothing leaks.
 */
export function describeFrozenPartConformance(options: FrozenPartConformanceOptions): void {
  const batchSize = options.batch ?? 3;
  const tolerance = options.tolerance ?? 0;
  describe(`frozen part: ${options.name}`, () => {
    for (const c of options.cases) {
      it(`${c.name}: the pass from the frozen part's output gives the same logits and gradients as from the images`, async () => {
        await initBackend({ backend: options.backend });
        const backbone = options.backbone(1);
        const model = c.model(backbone);
        const numClasses = model.numClasses;
        const { x, y } = randomBatch(backbone, batchSize, numClasses);
        const part = model.frozenPart();
        expect('key' in part ? part.key : part.reason, 'a frozen part is declared').toEqual(expect.any(String));
        expect('reason' in part, 'reason' in part ? part.reason : '').toBe(false);
        const before = tf.memory().numTensors;
        const output = model.frozenOutput(x);
        const direct = tf.tidy(() => model.forward(x));
        const cached = tf.tidy(() => model.forward(output));
        expect(maxAbsDiff(await direct.data(), await cached.data()), 'inference logits').toBeLessThanOrEqual(tolerance);
        const variables = model.trainableVariables();
        const gradients = (input: Parameters<PeftModel['forward']>[0]) => tf.variableGrads(() => crossEntropy(model.forward(input, { training: true }), y), variables);
        const fromImages = gradients(x);
        const fromCache = gradients(output);
        expect(Math.abs((await fromImages.value.data())[0]! - (await fromCache.value.data())[0]!), 'training loss').toBeLessThanOrEqual(tolerance);
        for (const v of variables) {
          const a = fromImages.grads[v.name]!;
          const b = fromCache.grads[v.name]!;
          expect(maxAbsDiff(await a.data(), await b.data()), `gradient of ${v.name}`).toBeLessThanOrEqual(tolerance * 10);
        }
        tf.dispose([direct, cached, fromImages.value, fromCache.value, fromImages.grads, fromCache.grads, ...inputTensors(output)]);
        expect(tf.memory().numTensors, 'tensors after disposing the frozen output').toBe(before);
        tf.dispose([x, y]);
        model.dispose({ backbone: true });
      });
    }

    it('refuses a frozen output of another backbone configuration', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      const model = options.cases[0]!.model(backbone);
      const { x, y } = randomBatch(backbone, batchSize, model.numClasses);
      const output = model.frozenOutput(x);
      const forged = { ...output, key: `${output.key.slice(0, 4)}other${output.key.slice(4)}` };
      expect(() => model.forward(forged)).toThrow(/frozen output/);
      tf.dispose([x, y, ...inputTensors(output)]);
      model.dispose({ backbone: true });
    });
  });
}
