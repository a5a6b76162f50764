/**
 * A/B of vpeft's one-pass wasm SIMD kernels (GELU, LayerNorm, the Softmax gradient, attention on the qkv layout; native/fused.c in
 * @vpeft/backend-wasm) against the composed tfjs ops they replace, interleaved: each round times the
 * composed path (the fused kernels unregistered: core and the lean Softmax gradient fall back), then
 * the fused one. Micro-benchmarks on ViT-Ti/16 shapes at batch 8, then (with --step) whole LoRA train
 * steps of ViT-Ti at batch 8.
 *
 *   pnpm bench:fused                    # micro-benchmarks, 5 rounds
 *   pnpm bench:fused --step --rounds 3  # and the LoRA step
 *   pnpm bench:fused --step --only VpeftQkvAttention,VpeftQkvAttentionGrad --clock cpu   # toggle some; CPU time
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { FUSED } from '@vpeft/backend-wasm';
import { createViT, gelu, initBackend, layerNorm, qkvAttention } from '@vpeft/core';
import { buildSetting } from './lib/settings';
import { createTrainStep, median, timedMedian } from './lib/train-step';
import { now, type Clock } from './lib/vit-products';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    step: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    clock: { type: 'string', default: 'wall' },
  },
});
const rounds = Number(values.rounds);
if (values.clock !== 'wall' && values.clock !== 'cpu') throw new Error(`--clock: expected wall or cpu, got "${values.clock}"`);
const clock = values.clock as Clock;
/** The kernels toggled: `--only` (comma-separated names of FUSED), else every one. */
const toggled = values.only ? values.only.split(',').map((name) => name.trim()) : Object.values(FUSED);
for (const name of toggled) if (!(Object.values(FUSED) as string[]).includes(name)) throw new Error(`--only: "${name}" is not one of ${Object.values(FUSED).join(', ')}`);

const fusedConfigs = new Map<string, tf.KernelConfig>();

/** Registers (on) or unregisters (off) the fused kernels on wasm. */
function useFused(on: boolean): void {
  for (const name of toggled) {
    const config = tf.getKernel(name, 'wasm');
    if (config) fusedConfigs.set(name, config);
    if (!on && config) tf.unregisterKernel(name, 'wasm');
    if (on && !config) tf.registerKernel(fusedConfigs.get(name)!);
  }
}

/** Median milliseconds of `f` (its result disposed) over ~0.3 s, after a warm-up call. */
function msPerCall(f: () => tf.Tensor | tf.Tensor[]): number {
  tf.dispose(f());
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 5 || performance.now() - start < 300) {
    const t0 = now(clock);
    const out = f();
    samples.push(now(clock) - t0);
    tf.dispose(out);
  }
  return median(samples);
}

/** Composed and fused medians (over the rounds' medians) of `f`, interleaved. */
function ab(f: () => tf.Tensor | tf.Tensor[]): { composed: number; fused: number } {
  const composed: number[] = [];
  const fused: number[] = [];
  for (let r = 0; r < rounds; r++) {
    useFused(false);
    composed.push(msPerCall(f));
    useFused(true);
    fused.push(msPerCall(f));
  }
  return { composed: median(composed), fused: median(fused) };
}

function report(name: string, { composed, fused }: { composed: number; fused: number }, unit = 'ms'): void {
  console.log(`${name.padEnd(44)} ${composed.toFixed(2).padStart(9)} ${fused.toFixed(2).padStart(9)} ${unit}  ${(composed / fused).toFixed(2)}x   load ${loadavg()[0]!.toFixed(2)}`);
}

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm' });
  console.log(`wasm, ${rounds} rounds interleaved; medians (${clock === 'cpu' ? 'CPU time' : 'elapsed time'}); toggled ${toggled.join(', ')}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${'case'.padEnd(44)} ${'composed'.padStart(9)} ${'fused'.padStart(9)}`);
  const hidden = tf.randomNormal([8 * 197, 768], 0, 1, 'float32', 1);
  const dHidden = tf.randomNormal([8 * 197, 768], 0, 1, 'float32', 2);
  report('GELU forward [1576, 768]', ab(() => gelu(hidden)));
  report('GELU forward + gradient [1576, 768]', ab(() => tf.grad(gelu)(hidden, dHidden)));
  const tokens = tf.randomNormal([8, 197, 192], 0, 1, 'float32', 3);
  const dTokens = tf.randomNormal([8, 197, 192], 0, 1, 'float32', 4);
  const gamma = tf.randomNormal([192], 1, 0.1, 'float32', 5) as tf.Tensor1D;
  const beta = tf.randomNormal([192], 0, 0.1, 'float32', 6) as tf.Tensor1D;
  const norm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-6);
  report('LayerNorm forward [8, 197, 192]', ab(() => norm(tokens, gamma, beta)));
  report('LayerNorm forward + gradients [8, 197, 192]', ab(() => tf.grads(norm)([tokens, gamma, beta], dTokens)));
  const scores = tf.randomNormal([8, 3, 197, 197], 0, 1, 'float32', 7);
  const dScores = tf.randomNormal([8, 3, 197, 197], 0, 1, 'float32', 8);
  report('Softmax forward + gradient [8, 3, 197, 197]', ab(() => tf.grad((x: tf.Tensor) => tf.softmax(x))(scores, dScores)));
  const qkv = tf.randomNormal([8, 197, 576], 0, 1, 'float32', 10) as tf.Tensor3D;
  const dContext = tf.randomNormal([8, 197, 192], 0, 1, 'float32', 11);
  const attention = (x: tf.Tensor) => qkvAttention(x as tf.Tensor3D, 3);
  // In tidy: the composed path's intermediates (split heads, scores) would otherwise pile up.
  report('attention on qkv forward [8, 197, 576], 3 heads', ab(() => tf.tidy(() => attention(qkv))));
  report('attention on qkv forward + gradient', ab(() => tf.tidy(() => tf.grad(attention)(qkv, dContext))));
  tf.dispose([hidden, dHidden, tokens, dTokens, gamma, beta, scores, dScores, qkv, dContext]);

  if (values.step) {
    const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
    const built = await buildSetting(vit, 'lora', 10);
    if ('skip' in built) throw new Error(built.skip);
    const train = createTrainStep(built.model, tf.train.adam(1e-4));
    const images = tf.randomNormal([8, 224, 224, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10) as tf.Tensor2D;
    const composed: number[] = [];
    const fused: number[] = [];
    for (let r = 0; r < rounds; r++) {
      useFused(false);
      composed.push(await timedMedian(() => train(images, labels), 2, clock));
      useFused(true);
      fused.push(await timedMedian(() => train(images, labels), 2, clock));
    }
    report('LoRA train step, ViT-Ti/16 224, batch 8', { composed: median(composed), fused: median(fused) }, 's ');
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
