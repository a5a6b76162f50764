import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, compose, defineMethod, initBackend, type TokenLayout, type TransformContext } from '@vpeft/core';
import { createTestViT, maxAbsDiff, randomBatch, trainSteps } from '@vpeft/core/testing';
import { vpt } from '@vpeft/method-vpt';
import { beforeAll, describe, expect, it } from 'vitest';
import { convOverTokens, convpass } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

/** Reference 3x3 'same' conv in plain JS on one NHWC map (HWIO kernel). */
function conv3x3(map: number[][][], kernel: number[][][][], bias: number[]): number[][][] {
  const h = map.length;
  const w = map[0]!.length;
  const m = bias.length;
  return map.map((row, y) =>
    row.map((_, x) =>
      Array.from({ length: m }, (_, o) => {
        let s = bias[o]!;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            for (let c = 0; c < m; c++) s += map[yy]![xx]![c]! * kernel[dy + 1]![dx + 1]![c]![o]!;
          }
        return s;
      }),
    ),
  );
}

describe('Convpass over the patch grid', () => {
  it('convolves exactly the patch tokens (found after the prompts) and treats other tokens as 1x1 maps', () => {
    const layout: TokenLayout = { prefix: 3, suffix: 2, grid: [2, 3] };
    const m = 2;
    const x = tf.randomNormal([1, 3 + 6 + 2, m], 0, 1, 'float32', 5) as tf.Tensor3D;
    const kernel = tf.variable(tf.randomNormal([3, 3, m, m], 0, 1, 'float32', 6));
    const bias = tf.variable(tf.tensor1d([0.1, -0.2]));
    const out = convOverTokens(x, layout, kernel, bias).arraySync()[0]!;
    const tokens = x.arraySync()[0]!;
    const k = kernel.arraySync() as number[][][][];
    const b = bias.arraySync() as number[];
    const grid = [tokens.slice(3, 6), tokens.slice(6, 9)];
    const expectedGrid = conv3x3(grid, k, b).flat();
    expect(maxAbsDiff(out.slice(3, 9).flat(), expectedGrid.flat())).toBeLessThan(1e-5);
    for (const i of [0, 1, 2, 9, 10]) {
      const centre = Array.from({ length: m }, (_, o) => b[o]! + tokens[i]!.reduce((s, v, c) => s + v * k[1]![1]![c]![o]!, 0));
      expect(maxAbsDiff(out[i]!, centre)).toBeLessThan(1e-5);
    }
  });

  it('runs on a model with VPT prompts: the conv sees the 4x4 patch grid after CLS + prompts, and trains', () => {
    const backbone = createTestViT(4);
    const layouts: TokenLayout[] = [];
    const probe = defineMethod<{ on: boolean }>({
      name: 'layout-probe',
      version: '0',
      category: 'addition',
      defaults: { on: true },
      targets: (sites) => sites.filter((s) => s.kind === 'branch'),
      create: () => ({
        transform: (x: tf.Tensor3D, next: (t: tf.Tensor3D) => tf.Tensor3D, ctx: TransformContext) => {
          layouts.push(ctx.layout!);
          expect(x.shape[1]).toBe(ctx.layout!.prefix + 16 + ctx.layout!.suffix);
          return next(x);
        },
      }),
    }).configure();
    const model = applyPeft(backbone, compose(vpt({ tokens: 3 }), probe, convpass({ bottleneck: 4, dropout: 0 })), { numClasses: 2 });
    const { x, y } = randomBatch(backbone, 2, 2);
    model.features(x);
    expect(layouts.every((l) => l.prefix === 4 && l.suffix === 0 && l.grid[0] === 4 && l.grid[1] === 4)).toBe(true);
    trainSteps(model, { x, y }, 3);
    const conv = model.parameters.variable('convpass.blocks.0.attn.conv.weight').arraySync() as number[][][][];
    // Identity-centred at init; after training the kernel has moved.
    expect(conv[1]![1]![0]![0]).not.toBe(1);
  });
});
