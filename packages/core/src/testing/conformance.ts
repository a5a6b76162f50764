import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, type BackendChoice } from '../backend/backend';
import type { Backbone } from '../backbone/backbone';
import { flattenMethods } from '../method/compose';
import type { MethodCategory, MethodInput } from '../method/method';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../model/adapter-config';
import { applyPeft } from '../model/apply-peft';
import { loadPeftModel } from '../model/load-peft-model';
import { parseSafetensors } from '../io/safetensors';
import { bitEqual, createTestViT, maxAbsDiff, randomBatch, read, snapshotAsync } from './fixtures';
import { trainStepsAsync } from './train-steps';

/** Method families whose modules fold into the backbone's weights by construction. */
const MERGEABLE_CATEGORIES = new Set<MethodCategory>(['partial', 'reparameterization']);

/** Options for {@link describeMethodConformance}. */
export interface ConformanceOptions {
  /** Title of the test group. */
  name: string;
  /** Makes the method(s) under test, freshly configured. */
  methods: () => MethodInput;
  /** Makes the backbone; called with a seed and must be deterministic in it. Default: {@link createTestViT}. */
  backbone?: (seed: number) => Backbone;
  /** Output unchanged at step 0 (default: every method's `zeroInit(options)`). */
  zeroInit?: boolean;
  /**
   * Whether merge() folds every method (true) or keeps at least one running (false). Default: true
   * when every method is partial-based or a reparameterisation (their category), else false; an
   * addition method that merges (SSF, IA3) says `true`. Never read from the model's own merge
   * report, so a module that silently cannot merge fails.
   */
  mergeable?: boolean;
  /** Backend to run on (default: the auto choice). */
  backend?: BackendChoice;
  numClasses?: number;
  /** Tolerance of merged-vs-unmerged logits (default 1e-5, relative to the logits' scale). */
  mergeTolerance?: number;
}

/**
 * The shared test matrix every method package runs (as Hugging Face PEFT's common tests): only the
 * method's parameters and the head train, step-0 identity for zero-init methods, merge equivalence,
 * a save/load round trip, and a flat tensor count across training steps.
 */
export function describeMethodConformance(options: ConformanceOptions): void {
  const numClasses = options.numClasses ?? 5;
  const makeBackbone = options.backbone ?? createTestViT;

  describe(`conformance: ${options.name}`, () => {
    it('trains only its own parameters and the head; the frozen backbone stays bit-identical', async () => {
      await initBackend({ backend: options.backend });
      const backbone = makeBackbone(1);
      const model = applyPeft(backbone, options.methods(), { numClasses });
      const instances = flattenMethods(options.methods());
      const owners = new Set(['head', ...instances.map((m) => m.name)]);
      for (const p of model.parameters.list()) {
        const expected = owners.has(p.owner) || (p.selectedBy !== undefined && owners.has(p.selectedBy));
        expect(p.trainable, `${p.name} trainable`).toBe(expected);
        expect(p.variable.trainable, `${p.name} tf.Variable.trainable`).toBe(expected);
      }
      const before = await snapshotAsync(model.parameters.list());
      const batch = randomBatch(backbone, 4, numClasses);
      // The gradient tape is asked for every variable: frozen ones must come back without a gradient.
      const { grads } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, numClasses), model.forward(batch.x, { training: true })) as tf.Scalar,
      );
      const trainableNames = new Set(model.trainableVariables().map((v) => v.name));
      expect(new Set(Object.keys(grads))).toEqual(trainableNames);
      tf.dispose(grads);
      await trainStepsAsync(model, batch, 3);
      for (const p of model.parameters.list()) {
        const changed = !bitEqual(before.get(p.name)!, await read(p.variable));
        expect(changed, `${p.name} ${p.trainable ? 'should change (trainable)' : 'must not change (frozen)'}`).toBe(p.trainable);
      }
      tf.dispose([batch.x, batch.y]);
      model.dispose({ backbone: true });
    });

    it('leaves the backbone output unchanged at step 0 when zero-initialised', async () => {
      await initBackend({ backend: options.backend });
      const zeroInit = options.zeroInit ?? flattenMethods(options.methods()).every((m) => m.definition.zeroInit?.(m.options) ?? false);
      const backbone = makeBackbone(1);
      const model = applyPeft(backbone, options.methods(), { numClasses });
      const { x, y } = randomBatch(backbone, 2, numClasses);
      const plain = backbone.forward(x);
      const withMethods = model.features(x);
      const diff = maxAbsDiff(await read(plain), await read(withMethods));
      if (zeroInit) expect(diff).toBeLessThan(1e-5);
      else expect(diff).toBeGreaterThan(0);
      tf.dispose([x, y, plain, withMethods]);
      model.dispose({ backbone: true });
    });

    it('reproduces the backbone when set to its declared identity values (methods not identity at init)', async () => {
      await initBackend({ backend: options.backend });
      const instances = flattenMethods(options.methods());
      const declaring = instances.filter((m) => m.definition.identityValue !== undefined);
      const rest = instances.filter((m) => !declaring.includes(m) && !(m.definition.zeroInit?.(m.options) ?? false));
      const backbone = makeBackbone(1);
      const model = applyPeft(backbone, options.methods(), { numClasses });
      const { x, y } = randomBatch(backbone, 2, numClasses);
      const plain = backbone.forward(x);
      for (const instance of declaring) {
        const own = model.parameters.list().filter((p) => p.owner === instance.name);
        expect(own.length, `${instance.name} has parameters`).toBeGreaterThan(0);
        for (const p of own) {
          const value = instance.definition.identityValue!(p.name, instance.options);
          expect(value, `identity value of ${p.name}`).toBeTypeOf('number');
          tf.tidy(() => p.variable.assign(tf.fill(p.variable.shape, value!)));
        }
      }
      const withMethods = model.features(x);
      const diff = maxAbsDiff(await read(plain), await read(withMethods));
      // Zero-init methods are the identity as created; methods that are neither (VPT's prompts) change the output.
      if (rest.length === 0) expect(diff).toBeLessThan(1e-5);
      else expect(diff).toBeGreaterThan(0);
      tf.dispose([x, y, plain, withMethods]);
      model.dispose({ backbone: true });
    });

    it('gives the same logits merged and unmerged, and unmerge restores the base weights', async () => {
      await initBackend({ backend: options.backend });
      const backbone = makeBackbone(1);
      const model = applyPeft(backbone, options.methods(), { numClasses });
      const batch = randomBatch(backbone, 2, numClasses);
      await trainStepsAsync(model, batch, 2);
      const base = await snapshotAsync(backbone.parameters.list());
      const unmerged = model.predict(batch.x);
      const instances = flattenMethods(options.methods());
      const mergeable = options.mergeable ?? instances.every((m) => MERGEABLE_CATEGORIES.has(m.definition.category));
      const report = model.merge();
      if (mergeable) {
        expect(report.kept, 'methods merge() kept running (mergeable: true)').toEqual([]);
        expect([...report.merged].sort()).toEqual(instances.map((m) => m.name).sort());
      } else {
        expect(report.kept.length, 'merge() folded every method, but mergeable is false').toBeGreaterThan(0);
      }
      const merged = model.predict(batch.x);
      const scale = Math.max(1, ...Array.from(await read(unmerged)).map(Math.abs));
      expect(maxAbsDiff(await read(unmerged), await read(merged)) / scale).toBeLessThan(options.mergeTolerance ?? 1e-5);
      model.unmerge();
      for (const p of backbone.parameters.list()) {
        expect(maxAbsDiff(base.get(p.name)!, await read(p.variable)), `${p.name} restored`).toBeLessThan(1e-5);
      }
      const again = model.predict(batch.x);
      expect(maxAbsDiff(await read(unmerged), await read(again)) / scale).toBeLessThan(1e-5);
      tf.dispose([batch.x, batch.y, unmerged, merged, again]);
      model.dispose({ backbone: true });
    });

    it('round-trips through saveAdapter / loadPeftModel with only trainable tensors in the file', async () => {
      await initBackend({ backend: options.backend });
      const dir = await mkdtemp(join(tmpdir(), 'vpeft-conformance-'));
      try {
        const backbone = makeBackbone(1);
        const model = applyPeft(backbone, options.methods(), { numClasses });
        const batch = randomBatch(backbone, 2, numClasses);
        await trainStepsAsync(model, batch, 2);
        await model.saveAdapter(dir);
        const file = parseSafetensors(new Uint8Array(await readFile(join(dir, ADAPTER_WEIGHTS_FILE))), ADAPTER_WEIGHTS_FILE);
        expect(new Set(file.tensors.keys())).toEqual(new Set(model.trainableParameters().map((p) => p.name)));
        expect(JSON.parse(await readFile(join(dir, ADAPTER_CONFIG_FILE), 'utf8')).format).toBe('vpeft-adapter');
        const expected = model.predict(batch.x);
        const fresh = makeBackbone(1);
        const loaded = await loadPeftModel(fresh, dir);
        const actual = loaded.predict(batch.x);
        expect(maxAbsDiff(await read(expected), await read(actual))).toBe(0);
        tf.dispose([batch.x, batch.y, expected, actual]);
        model.dispose({ backbone: true });
        loaded.dispose({ backbone: true });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('keeps the tensor count flat across training steps', async () => {
      await initBackend({ backend: options.backend });
      const backbone = makeBackbone(1);
      const model = applyPeft(backbone, options.methods(), { numClasses });
      const batch = randomBatch(backbone, 2, numClasses);
      const optimizer = tf.train.adam(1e-3);
      const counts: number[] = [];
      // Adam creates its slots lazily at the first step: count from step 1 on.
      await trainStepsAsync(model, batch, 6, { optimizer, afterStep: () => counts.push(tf.memory().numTensors) });
      expect(new Set(counts.slice(1)).size, `tensor counts ${counts.join(', ')}`).toBe(1);
      optimizer.dispose();
      tf.dispose([batch.x, batch.y]);
      model.dispose({ backbone: true });
    });
  });
}
