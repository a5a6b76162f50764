import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type SiteInfo, type TransformContext } from '@vpeft/core';
import { maxAbsDiff } from '@vpeft/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { columnNorms, convDoraTransform, foldDora, linearDoraTransform, unfoldDora, type LoraSiteState } from '../src/index';

// PyTorch reference (test/fixtures/make_dora_fixture.py): Hugging Face PEFT's DoRA formulas on a tiny
// linear and a tiny 3x3 conv, with the norm detached; PyTorch layouts, conv activations NHWC.
type Nested = number | Nested[];
interface Case {
  scale: number;
  W: Nested; b: number[]; A: Nested; B: Nested;
  magnitude_init: Nested; magnitude: Nested;
  x: Nested; G: Nested; y: Nested; merged_W: Nested;
  grad_magnitude: Nested; grad_A: Nested; grad_B: Nested;
}
const fixture = JSON.parse(await readFile(fileURLToPath(new URL('./fixtures/dora-expected.json', import.meta.url)), 'utf8')) as { linear: Case; conv: Case };

const flat = (v: Nested): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);
const tensor = (v: Nested) => tf.tensor(v as number[]);
const variable = (t: tf.Tensor) => tf.variable(t, true);

beforeAll(async () => {
  await initBackend();
});

/** The vpeft state of a DoRA site from PyTorch-layout tensors (linear [out, in] → [in, out]; conv OIHW → HWIO). */
function stateOf(kind: 'linear' | 'conv', c: Case): { state: LoraSiteState; bias: tf.Tensor1D; vars: { W: tf.Variable; A: tf.Variable; B: tf.Variable; m: tf.Variable } } {
  const toTf = (v: Nested) => (kind === 'linear' ? tf.transpose(tensor(v)) : tf.transpose(tensor(v), [2, 3, 1, 0]));
  const W = variable(toTf(c.W));
  const A = variable(toTf(c.A));
  const B = variable(toTf(c.B));
  const m = variable(tf.tensor1d(flat(c.magnitude)));
  const out = m.shape[0]!;
  const site: SiteInfo = kind === 'linear'
    ? { name: 'fc', kind, inFeatures: W.shape[0], outFeatures: out, weight: 'fc.weight' }
    : { name: 'conv', kind, inFeatures: W.shape[2], outFeatures: out, kernelSize: [3, 3], strides: [1, 1], padding: 'same', groups: 1, weight: 'conv.weight' };
  return {
    state: { site, factors: [{ down: A, up: B, columns: [0, out], magnitude: m }], scale: c.scale, dropout: 0, weight: W },
    bias: tf.tensor1d(c.b),
    vars: { W, A, B, m },
  };
}

function run(kind: 'linear' | 'conv', state: LoraSiteState, bias: tf.Tensor1D, x: tf.Tensor): tf.Tensor {
  const ctx: TransformContext = { site: state.site, training: false };
  if (kind === 'linear') {
    return linearDoraTransform(state)(x as tf.Tensor2D, (input) => tf.add(tf.matMul(input, state.weight as tf.Tensor2D), bias) as tf.Tensor2D, ctx);
  }
  return convDoraTransform(state)(x as tf.Tensor4D, (input) => tf.add(tf.conv2d(input, state.weight as tf.Tensor4D, 1, 'same'), bias) as tf.Tensor4D, ctx);
}

describe.each(['linear', 'conv'] as const)('DoRA on a %s layer against PyTorch (PEFT formulas)', (kind) => {
  const c = () => fixture[kind];

  it('initialises the magnitude to the weight norm of each output channel', () => {
    const { vars } = stateOf(kind, c());
    const norms = columnNorms(vars.W);
    expect(maxAbsDiff(norms.dataSync(), flat(c().magnitude_init))).toBeLessThan(1e-5);
    tf.dispose([norms, ...Object.values(vars)]);
  });

  it('gives the reference output and gradients (norm detached) to 1e-4', () => {
    const { state, bias, vars } = stateOf(kind, c());
    const x = tensor(c().x);
    const G = tensor(c().G);
    const y = run(kind, state, bias, x);
    expect(maxAbsDiff(y.dataSync(), flat(c().y))).toBeLessThan(1e-4);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(run(kind, state, bias, x), G)) as tf.Scalar, [vars.m, vars.A, vars.B]);
    const toTorch = (t: tf.Tensor) => (kind === 'linear' ? tf.transpose(t) : tf.transpose(t, [3, 2, 0, 1]));
    const gA = toTorch(grads[vars.A.name]!);
    const gB = toTorch(grads[vars.B.name]!);
    expect(maxAbsDiff(grads[vars.m.name]!.dataSync(), flat(c().grad_magnitude))).toBeLessThan(1e-4);
    expect(maxAbsDiff(gA.dataSync(), flat(c().grad_A))).toBeLessThan(1e-4);
    expect(maxAbsDiff(gB.dataSync(), flat(c().grad_B))).toBeLessThan(1e-4);
    tf.dispose([x, G, y, gA, gB, bias, ...Object.values(grads), ...Object.values(vars)]);
  });

  it("merges to W' = m ⊙ V / ‖V‖ (V = W + s·BA) and unmerges to W", () => {
    const { state, bias, vars } = stateOf(kind, c());
    const original = vars.W.dataSync().slice();
    const scales = foldDora(state);
    const merged = kind === 'linear' ? tf.transpose(vars.W) : tf.transpose(vars.W, [3, 2, 0, 1]);
    expect(maxAbsDiff(merged.dataSync(), flat(c().merged_W))).toBeLessThan(1e-4);
    unfoldDora(state, scales);
    expect(maxAbsDiff(vars.W.dataSync(), original)).toBeLessThan(1e-5);
    tf.dispose([merged, bias, ...Object.values(vars)]);
  });
});
