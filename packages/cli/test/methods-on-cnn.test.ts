import * as tf from '@tensorflow/tfjs-core';
import { loadNsfwjsMobileNetV2 } from '@vpeft/backbone-layers';
import { applyPeft, compose, initBackend } from '@vpeft/core';
import { maxAbsDiff, trainSteps } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { ssf } from '@vpeft/method-ssf';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index';
import { captureOutput } from './capture-output';

const captured = captureOutput();

// MobileNetV2 (Sandler et al. 2018, Table 2, width 1.0): the inverted-residual blocks 1..16 as
// [input channels, output channels]; each expands its input 6x before the 1x1 `block_i_project` conv.
const BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [16, 24], [24, 24], [24, 32], [32, 32], [32, 32], [32, 64], [64, 64], [64, 64], [64, 64],
  [64, 96], [96, 96], [96, 96], [96, 160], [160, 160], [160, 160], [160, 320],
];
const EXPANSION = 6;
// SSF after every `*_project_BN`: a scale and a shift per output channel (the first block,
// `expanded_conv`, projects to 16 channels).
const SSF_ON_PROJECT_BN = 2 * (16 + BLOCKS.reduce((sum, [, out]) => sum + out, 0));
// DoRA r = 8 on every `block_i_project` 1x1 conv: A [1,1,in,r], B [1,1,r,out] and a magnitude per output.
const R = 8;
const DORA_ON_PROJECT = BLOCKS.reduce((sum, [input, out]) => sum + R * (EXPANSION * input + out) + out, 0);

async function inspectCount(method: string): Promise<number> {
  expect(await runCli(['inspect', '--backbone', 'mobilenet_v2', '--classes', '3', '--method', method, '--json'])).toBe(0);
  return (JSON.parse(captured.stdout) as { summary: { trainableExcludingHead: number } }).summary.trainableExcludingHead;
}

describe('SSF, DoRA and FacT on the LayersModel (CNN) backbone', () => {
  it('refuses FacT in one line that says why (its factors are shared across transformer blocks)', async () => {
    expect(await runCli(['inspect', '--backbone', 'mobilenet_v2', '--method', 'fact'])).toBe(2);
    const lines = captured.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^vpeft: fact does not apply to mobilenet_v2: .*shared across them, and it has no such blocks \(only conv\/norm.* sites\); on a CNN use ssf or lora/);
  });

  it.each([
    ['ssf:targets=*_project_BN', SSF_ON_PROJECT_BN],
    ['lora:dora=true,targets=block_*_project', DORA_ON_PROJECT],
  ])('--method %s counts %i (from the architecture)', async (method, count) => {
    expect(await inspectCount(method)).toBe(count);
  });

  it('trains SSF + DoRA on convs and merges both into the frozen CNN exactly', async () => {
    await initBackend();
    const backbone = await loadNsfwjsMobileNetV2();
    const methods = compose(ssf({ targets: ['block_1*_project_BN'] }), lora({ r: 4, dora: true, targets: ['block_15_project', 'block_16_project'] }));
    const model = applyPeft(backbone, methods, { numClasses: 3 });
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    trainSteps(model, { x, y: tf.tensor1d([0, 2], 'int32') }, 1, { learningRate: 1e-2 });
    const unmerged = model.predict(x);
    const report = model.merge();
    expect(report.merged.sort()).toEqual(['lora', 'ssf']);
    expect(report.kept).toEqual([]);
    const merged = model.predict(x);
    expect(maxAbsDiff(unmerged.dataSync(), merged.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, unmerged, merged]);
    model.dispose({ backbone: true });
  });
});
