// Every registered method, with no options, on a CNN (the pre-trained MobileNetV2), the pre-trained ViT
// and a tiny Swin: it applies and trains a step, or refuses in one line saying why (MethodNotApplicableError).
// The loop runs over the method registry, so a newly installed method is covered without editing this file.
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, getMethod, initBackend, listMethods, loadBackbone, MethodNotApplicableError, type Backbone } from '@vpeft/core';
import { randomBatch, trainSteps } from '@vpeft/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index';
import { discoverPlugins } from '../src/plugins';
import { captureOutput } from './capture-output';

await discoverPlugins();
const methods = listMethods();
const BACKBONES = ['mobilenet_v2', 'vit_tiny_patch7_28_mnist04', 'swin_test_patch2_window2_32'] as const;
/** Methods every backbone family must take with their defaults (they act on parameters, norms, linear or conv layers by role). */
const EVERYWHERE = new Set(['lora', 'bitfit', 'ln-tune', 'partial', 'ssf']);
/** Methods that need token sequences or transformer blocks and must refuse the CNN. */
const NOT_ON_CNN = new Set(['vpt', 'prefix', 'adapter', 'adaptformer', 'convpass', 'fact', 'repadapter']);

const captured = captureOutput();
const outcomes = new Map<string, string>();

describe.each(BACKBONES)('every registered method with its defaults on %s', (name) => {
  let backbone: Backbone;
  beforeAll(async () => {
    await initBackend();
    backbone = await loadBackbone(name);
  }, 60_000);
  afterAll(() => backbone.dispose());

  it.each(methods)('%s applies and trains one step, or refuses in one line', (method) => {
    let model;
    try {
      model = applyPeft(backbone, getMethod(method).configure(), { numClasses: 3 });
    } catch (error) {
      expect(error, String(error)).toBeInstanceOf(MethodNotApplicableError);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain(`${method} does not apply to ${name}`);
      outcomes.set(`${name} ${method}`, `refuses: ${message}`);
      expect(EVERYWHERE.has(method), `${method} must apply to ${name}`).toBe(false);
      return;
    }
    expect(name === 'mobilenet_v2' && NOT_ON_CNN.has(method), `${method} must refuse the CNN`).toBe(false);
    try {
      const trainable = model.summary().trainableTotal - model.summary().rows.find((r) => r.owner === 'head')!.trainable;
      expect(trainable, 'trains something besides the head').toBeGreaterThan(0);
      const batch = randomBatch(backbone, 2, 3);
      const [loss] = trainSteps(model, batch, 1);
      expect(Number.isFinite(loss)).toBe(true);
      tf.dispose([batch.x, batch.y]);
      outcomes.set(`${name} ${method}`, `trains ${trainable}`);
    } finally {
      model.dispose();
    }
  }, 60_000);
});

describe('through the CLI', () => {
  it('a method that cannot apply exits 2 with one line; inspect names the sites a default took and their role', async () => {
    expect(await runCli(['inspect', '--backbone', 'mobilenet_v2', '--method', 'vpt'])).toBe(2);
    expect(captured.stderr.trim().split('\n')).toHaveLength(1);
    expect(captured.stderr).toMatch(/vpt does not apply to mobilenet_v2: .*tokens/);
    expect(await runCli(['inspect', '--backbone', 'mobilenet_v2', '--method', 'lora', '--json'])).toBe(0);
    const result = JSON.parse(captured.stdout) as { methods: Array<{ sites: Record<string, string[]> }> };
    // The pointwise convs of the 7x7 stage: blocks 13-16 and the final 1x1 conv.
    expect(result.methods[0]!.sites['conv.pointwise']).toEqual(['block_13_project', 'block_14_expand', 'block_14_project', 'block_15_expand', 'block_15_project', 'block_16_expand', 'block_16_project', 'Conv_1']);
  }, 60_000);
});

afterAll(() => {
  if (process.env.VPEFT_PRINT_OUTCOMES) process.stderr.write(`${[...outcomes].map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
});
