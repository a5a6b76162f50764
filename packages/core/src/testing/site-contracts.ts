import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, type BackendChoice } from '../backend/backend';
import type { Backbone } from '../backbone/backbone';
import type { AttentionInputs, SiteInfo, SiteKind, SiteOutputMap, SiteRunner, SiteValueMap, TransformContext } from '../sites/site';
import { maxAbsDiff, randomBatch } from './fixtures';

/** Options for {@link describeAttentionSiteConformance} and {@link describeTapConformance}. */
export interface SiteContractOptions {
  /** Title of the test group. */
  name: string;
  /** Makes the backbone; called with a seed and must be deterministic in it. */
  backbone: (seed: number) => Backbone;
  /** Backend to run on (default: the auto choice). */
  backend?: BackendChoice;
  /** Images per test batch (default 2). */
  batch?: number;
}

type Hook = <K extends SiteKind>(site: SiteInfo, input: SiteValueMap[K], op: (x: SiteValueMap[K]) => SiteOutputMap[K], ctx: TransformContext) => SiteOutputMap[K];

/** A runner that calls `hook` at every site of the given kinds (`active` there) and runs the plain op elsewhere. */
function hookRunner(backbone: Backbone, kinds: readonly SiteKind[], hook: Hook, training = false): SiteRunner {
  const byName = new Map(backbone.sites().map((s) => [s.name, s]));
  const hooked = (name: string) => kinds.includes(byName.get(name)?.kind as SiteKind);
  const scratch = new Map<string, unknown>();
  return {
    run: (name, input, op, extra = {}) => (hooked(name) ? hook(byName.get(name)!, input, op, { site: byName.get(name)!, training, scratch, ...extra }) : op(input)),
    active: hooked,
  };
}

/**
 * The attention-site contract for a backbone that declares `attention` sites: the op reads q, k, v
 * `[B, heads, N, dim/heads]` and returns `[B, N, dim]`, honours keys and values a transform adds
 * (duplicating every key/value pair leaves softmax attention unchanged), and its output is used.
 */
export function describeAttentionSiteConformance(options: SiteContractOptions): void {
  const batchSize = options.batch ?? 2;
  describe(`attention sites: ${options.name}`, () => {
    it('declares attention sites with heads and dim, fed [B, heads, N, dim/heads] and returning [B, N, dim]', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      const sites = backbone.sites().filter((s) => s.kind === 'attention');
      expect(sites.length, 'attention sites declared').toBeGreaterThan(0);
      const seen = new Set<string>();
      const { x } = randomBatch(backbone, batchSize, 2);
      const runner = hookRunner(backbone, ['attention'], (site, input, op) => {
        const { q, k, v } = input as AttentionInputs;
        const heads = site.heads!;
        const dim = site.dim!;
        expect(q.shape, site.name).toEqual([batchSize, heads, q.shape[2], dim / heads]);
        expect(k.shape, site.name).toEqual(q.shape);
        expect(v.shape, site.name).toEqual(q.shape);
        const out = op(input) as tf.Tensor;
        expect(out.shape, site.name).toEqual([batchSize, q.shape[2], dim]);
        seen.add(site.name);
        return out as never;
      });
      // The same runner with a pass-through hook: the backbone takes the same path (a backbone may fuse
      // attention where no site is active: that default path agrees to float32 rounding).
      const passThrough = backbone.forward(x, { sites: hookRunner(backbone, ['attention'], (_site, input, op) => op(input)) });
      const plain = backbone.forward(x);
      const hooked = backbone.forward(x, { sites: runner });
      expect([...seen].sort()).toEqual(sites.map((s) => s.name).sort());
      expect(maxAbsDiff(passThrough.dataSync(), hooked.dataSync())).toBe(0);
      expect(maxAbsDiff(plain.dataSync(), hooked.dataSync())).toBeLessThanOrEqual(1e-4 * Math.max(1, tf.tidy(() => tf.max(tf.abs(hooked)).dataSync()[0]!)));
      tf.dispose([x, plain, hooked, passThrough]);
      backbone.dispose();
    });

    it('honours keys and values a transform prepends: duplicated key/value pairs leave the output unchanged', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      const { x } = randomBatch(backbone, batchSize, 2);
      const twice = (t: tf.Tensor4D) => tf.concat([t, t], 2) as tf.Tensor4D;
      const runner = hookRunner(backbone, ['attention'], (_site, input, op) => {
        const { q, k, v } = input as AttentionInputs;
        return op({ q, k: twice(k), v: twice(v) } as never);
      });
      const plain = backbone.forward(x);
      const doubled = backbone.forward(x, { sites: runner });
      const scale = Math.max(1, ...Array.from(plain.dataSync()).map(Math.abs));
      expect(maxAbsDiff(plain.dataSync(), doubled.dataSync()) / scale).toBeLessThan(1e-5);
      // ...while other extra keys do change it: the op reads what the transform passed.
      const shifted = hookRunner(backbone, ['attention'], (_site, input, op) => {
        const { q, k, v } = input as AttentionInputs;
        return op({ q, k: tf.concat([tf.zerosLike(k), k], 2), v: tf.concat([tf.onesLike(v), v], 2) } as never);
      });
      const changed = backbone.forward(x, { sites: shifted });
      expect(maxAbsDiff(plain.dataSync(), changed.dataSync())).toBeGreaterThan(1e-4);
      tf.dispose([x, plain, doubled, changed]);
      backbone.dispose();
    });
  });
}

/**
 * The tap contract (see `SiteKind`) for a backbone that declares `tap` sites: tap transforms run
 * after every other site and right before `features`, in declaration order, with the declared
 * width; what they return is ignored; the values are detached (no gradient reaches the backbone
 * through them); and with only taps and `features` active, training keeps the backbone off the tape.
 */
export function describeTapConformance(options: SiteContractOptions): void {
  const batchSize = options.batch ?? 2;
  describe(`tap sites: ${options.name}`, () => {
    it('runs active taps in declaration order right before features, with the declared width; results are ignored', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      const taps = backbone.sites().filter((s) => s.kind === 'tap');
      expect(taps.length, 'tap sites declared').toBeGreaterThan(0);
      const { x } = randomBatch(backbone, batchSize, 2);
      const visited: string[] = [];
      const byName = new Map(backbone.sites().map((s) => [s.name, s]));
      const runner: SiteRunner = {
        run: (name, input, op) => {
          visited.push(name);
          if (byName.get(name)?.kind !== 'tap') return op(input);
          const value = input as tf.Tensor;
          expect(value.shape[0], name).toBe(batchSize);
          expect(value.shape.at(-1), `${name} width`).toBe(byName.get(name)!.dim);
          // A tap's result is ignored: returning garbage must not change anything.
          return tf.zerosLike(value) as never;
        },
        active: () => true,
      };
      // Every site active, as in `runner`: the backbone takes the same path (a fused attention needs an inactive site).
      const plain = backbone.forward(x, { sites: { run: (_name, input, op) => op(input), active: () => true } });
      const tapped = backbone.forward(x, { sites: runner });
      expect(maxAbsDiff(plain.dataSync(), tapped.dataSync())).toBe(0);
      const tapNames = taps.map((s) => s.name);
      expect(visited.filter((n) => tapNames.includes(n))).toEqual(tapNames);
      const featuresAt = visited.lastIndexOf('features');
      expect(visited.slice(featuresAt - tapNames.length, featuresAt)).toEqual(tapNames);
      tf.dispose([x, plain, tapped]);
      backbone.dispose();
    });

    it('hands detached values: no gradient reaches a trainable backbone parameter through a tap', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      const { x } = randomBatch(backbone, batchSize, 2);
      // Unfreeze the backbone's first weight so the backbone runs on the tape.
      const param = backbone.parameters.list().find((p) => p.variable.rank >= 2)!;
      param.trainable = true;
      const taps = new Set(backbone.sites().filter((s) => s.kind === 'tap').map((s) => s.name));
      const gradient = (throughTaps: boolean) => {
        const runner: SiteRunner = {
          run: (name, input, op, extra) => {
            if (taps.has(name)) {
              const sum = tf.sum(input as tf.Tensor) as tf.Scalar;
              const acc = (runner as { acc?: tf.Scalar }).acc;
              (runner as { acc?: tf.Scalar }).acc = acc ? (tf.add(acc, sum) as tf.Scalar) : sum;
              return input as never;
            }
            void extra;
            return op(input);
          },
          active: (name) => taps.has(name),
        };
        const { value, grads } = tf.variableGrads(() => {
          const features = backbone.forward(x, { training: true, sites: runner });
          const fromTaps = (runner as { acc?: tf.Scalar }).acc!;
          return throughTaps ? tf.add(tf.mul(tf.sum(features), 0), fromTaps) : tf.sum(features);
        }, [param.variable]);
        const g = grads[param.variable.name]!;
        const maxAbs = tf.max(tf.abs(g)).dataSync()[0]!;
        tf.dispose([value, g]);
        return maxAbs;
      };
      expect(gradient(false), 'the parameter does get gradient through the backbone').toBeGreaterThan(0);
      expect(gradient(true), 'but none through the taps').toBe(0);
      tf.dispose(x);
      param.trainable = false;
      backbone.dispose();
    });

    it('keeps the backbone off the tape in training when only taps and features are active', async () => {
      await initBackend({ backend: options.backend });
      const backbone = options.backbone(1);
      const { x } = randomBatch(backbone, batchSize, 2);
      const taps = new Set(backbone.sites().filter((s) => s.kind === 'tap').map((s) => s.name));
      const weight = tf.variable(tf.ones([backbone.featureDim]), true, `tap-conformance-${Math.random()}`);
      // Live tensors at the features site of a training pass: what the tape keeps for backprop.
      const liveAtFeatures = (active: (name: string) => boolean) => {
        let live = 0;
        const runner: SiteRunner = {
          run: (name, input, op) => {
            if (name === 'features') live = tf.memory().numTensors;
            return name === 'features' ? (tf.mul(op(input) as tf.Tensor, weight) as never) : op(input);
          },
          active,
        };
        const { value, grads } = tf.variableGrads(() => tf.sum(backbone.forward(x, { training: true, sites: runner })), [weight]);
        tf.dispose([value, grads[weight.name]!]);
        return live;
      };
      const before = tf.memory().numTensors;
      const offTape = liveAtFeatures((name) => taps.has(name) || name === 'features') - before;
      const everywhere = liveAtFeatures(() => true) - before;
      expect(offTape, `live tensors off tape ${offTape} vs every site active ${everywhere}`).toBeLessThan(everywhere / 2);
      weight.dispose();
      tf.dispose(x);
      backbone.dispose();
    });
  });
}
