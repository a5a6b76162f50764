import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, type BackendChoice } from '../backend/backend';
import type { Backbone } from '../backbone/backbone';
import type { Parameter, ParameterRole } from '../params/parameter';
import type { SiteRunner } from '../sites/site';
import { maxAbsDiff, randomBatch, read } from './fixtures';

/** Options for {@link describeBackboneConformance}. */
export interface BackboneConformanceOptions {
  /** Title of the test group. */
  name: string;
  /** Makes the backbone; called with a seed and must be deterministic in it. */
  backbone: (seed: number) => Backbone;
  /** Backend to run on (default: the auto choice). */
  backend?: BackendChoice;
  /** Images per test batch (default 2). */
  batch?: number;
  /** Tolerance of off-tape vs taped gradients, relative to the gradients' scale (default 1e-5). */
  gradientTolerance?: number;
}

const ROLES = new Set<ParameterRole>(['weight', 'bias', 'norm-weight', 'norm-bias', 'embedding', 'token', 'scale', 'other']);

/** A runner that runs every site's plain op (a no-op method at every site) and records the sites it saw; `active` everywhere. */
function identityEverywhere(seen: Set<string>): SiteRunner {
  return {
    run: (name, input, op) => {
      seen.add(name);
      return op(input);
    },
    active: () => true,
  };
}

/** The plain op everywhere; with `active` (nothing active), so a backbone may run its frozen prefix off the tape, or without it (all taped). */
function plainRunner(canTell: boolean): SiteRunner {
  return canTell ? { run: (_name, input, op) => op(input), active: () => false } : { run: (_name, input, op) => op(input) };
}

/**
 * The backbone contract (as {@link describeMethodConformance} is the method contract): declared sites
 * and parameter roles are consistent with the parameters; a no-op transform at every site leaves the
 * output unchanged (to float32 rounding) and reaches every declared site; running the frozen prefix off the gradient tape
 * gives the same gradients as the fully taped run; forward passes keep the tensor count flat and
 * `dispose()` frees every tensor the backbone made.
 */
export function describeBackboneConformance(options: BackboneConformanceOptions): void {
  const batchSize = options.batch ?? 2;
  describe(`backbone conformance: ${options.name}`, () => {
    it('declares sites and parameters consistently (names, roles, places, shapes, feature width)', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      try {
        const parameters = backbone.parameters.list();
        expect(parameters.length).toBeGreaterThan(0);
        for (const p of parameters) {
          expect(p.owner, `${p.name} owner`).toBe('backbone');
          expect(ROLES.has(p.role), `${p.name} role "${p.role}"`).toBe(true);
          expect(p.trainable, `${p.name} starts frozen`).toBe(false);
          if (p.block !== undefined) expect(Number.isInteger(p.block) && p.block >= 0, `${p.name} block`).toBe(true);
        }
        const sites = backbone.sites();
        const names = sites.map((s) => s.name);
        expect(new Set(names).size, 'site names are unique').toBe(names.length);
        const blocks = new Set(sites.flatMap((s) => (s.block === undefined ? [] : [s.block])));
        for (const p of parameters) if (p.block !== undefined) expect(blocks.has(p.block), `${p.name} block ${p.block} has sites`).toBe(true);
        const features = sites.filter((s) => s.kind === 'features');
        expect(features.map((s) => s.name), 'one features site').toEqual(['features']);
        expect(features[0]!.dim).toBe(backbone.featureDim);
        for (const site of sites) {
          const weight = site.weight ? backbone.parameters.get(site.weight) : undefined;
          const bias = site.bias ? backbone.parameters.get(site.bias) : undefined;
          if (site.kind === 'linear') {
            expect(weight, `${site.name} declares its weight`).toBeDefined();
            expect(weight!.variable.shape, `${site.name} weight [in, out]`).toEqual([site.inFeatures, site.outFeatures]);
            expect(weight!.role).toBe('weight');
          }
          if (site.kind === 'conv') {
            expect(weight, `${site.name} declares its kernel`).toBeDefined();
            const [kh, kw, inC] = weight!.variable.shape as number[];
            expect([kh, kw], `${site.name} kernel size`).toEqual([...site.kernelSize!]);
            expect(inC, `${site.name} kernel input channels`).toBe(site.groups === site.inFeatures ? site.inFeatures : site.inFeatures! / (site.groups ?? 1));
            expect(weight!.role).toBe('weight');
          }
          if (site.kind === 'norm') {
            for (const p of [weight, bias]) if (p) expect(p.variable.shape, `${site.name} ${p.name}`).toEqual([site.dim]);
            if (weight) expect(weight.role).toBe('norm-weight');
            if (bias) expect(bias.role).toBe('norm-bias');
          } else if (bias) {
            expect(bias.variable.shape, `${site.name} bias`).toEqual([site.outFeatures]);
            expect(bias.role).toBe('bias');
          }
          if (site.activation !== undefined) expect(typeof site.activation).toBe('string');
        }
        const batch = randomBatch(backbone, batchSize, 2);
        const out = tf.tidy(() => backbone.forward(batch.x));
        expect(out.shape).toEqual([batchSize, backbone.featureDim]);
        expect((await read(out)).every(Number.isFinite)).toBe(true);
        tf.dispose([out, batch.x, batch.y]);
      } finally {
        backbone.dispose();
      }
    });

    it('a no-op transform at every site reaches every declared site and leaves the output unchanged (to float32 rounding where the backbone fuses what no transform touches)', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(2);
      try {
        const batch = randomBatch(backbone, batchSize, 2);
        const plain = tf.tidy(() => backbone.forward(batch.x));
        const seen = new Set<string>();
        const through = tf.tidy(() => backbone.forward(batch.x, { sites: identityEverywhere(seen) }));
        // A backbone may run fused kernels where no site is active (the ViT's attention on wasm), which
        // round differently from the composed ops: 1e-4 of the output's scale is far above float32
        // rounding through a small backbone and far below any real change.
        const throughValues = await read(through);
        const scale = throughValues.reduce((largest, v) => Math.max(largest, Math.abs(v)), 1);
        expect(maxAbsDiff(await read(plain), throughValues)).toBeLessThanOrEqual(1e-4 * scale);
        const declared = backbone.sites().map((s) => s.name);
        expect([...seen].filter((name) => !declared.includes(name)), 'sites run but not declared').toEqual([]);
        expect(declared.filter((name) => !seen.has(name)), 'declared sites never run').toEqual([]);
        tf.dispose([plain, through, batch.x, batch.y]);
      } finally {
        backbone.dispose();
      }
    });

    it('running the frozen prefix off the tape gives the taped gradients', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(3);
      try {
        // Train the weights of the last third of the forward pass: the rest is a frozen prefix.
        const weights = backbone.parameters.list().filter((p) => p.role === 'weight');
        const late: Parameter[] = weights.slice(Math.floor((2 * weights.length) / 3));
        for (const p of late) p.trainable = true;
        const batch = randomBatch(backbone, batchSize, 2);
        const gradients = (runner: SiteRunner) => {
          const { grads } = tf.variableGrads(() => tf.sum(tf.square(backbone.forward(batch.x, { training: true, sites: runner }))) as tf.Scalar, late.map((p) => p.variable));
          return grads;
        };
        const offTape = gradients(plainRunner(true));
        const taped = gradients(plainRunner(false));
        for (const p of late) {
          const a = await read(offTape[p.variable.name]!);
          const b = await read(taped[p.variable.name]!);
          const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
          expect(maxAbsDiff(a, b) / scale, `${p.name} gradient`).toBeLessThan(options.gradientTolerance ?? 1e-5);
        }
        tf.dispose([...Object.values(offTape), ...Object.values(taped), batch.x, batch.y]);
        for (const p of late) p.trainable = false;
      } finally {
        backbone.dispose();
      }
    });

    it('forward passes keep the tensor count flat and dispose() frees every tensor', async () => {
      await initBackend({ backend: options.backend });
      const before = tf.memory().numTensors;
      const backbone = options.backbone(4);
      const batch = randomBatch(backbone, batchSize, 2);
      tf.dispose(tf.tidy(() => backbone.forward(batch.x)));
      const after1 = tf.memory().numTensors;
      tf.dispose(tf.tidy(() => backbone.forward(batch.x)));
      // Training keeps intermediates for the tape: the caller's tidy frees them.
      tf.dispose(tf.tidy(() => backbone.forward(batch.x, { training: true, sites: plainRunner(true) })));
      expect(tf.memory().numTensors, 'tensors after more forward passes').toBe(after1);
      tf.dispose([batch.x, batch.y]);
      backbone.dispose();
      expect(tf.memory().numTensors, 'tensors left after dispose()').toBe(before);
    });
  });
}
