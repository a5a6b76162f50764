/**
 * Where a ViT-Ti/16 (224) train step spends its time, per tfjs kernel: one step per setting under
 * `tf.profile` (after one warm-up step), top kernels by total kernelMs.
 *
 *   pnpm bench:profile                          # fast kernels, then stock, side by side (two processes)
 *   pnpm bench:profile --kernels stock --modes full --batch 8 --top 12
 *   pnpm bench:profile --kernels fast --unregister-kernels VpeftQkvAttention,VpeftQkvAttentionGrad   # A/B one kernel
 *
 * The wasm kernels run synchronously, so kernelMs is wall time; vpeft's fast kernels call other
 * kernels directly (not through the engine), and the "forward" wrappers of tf.customGrad ops (whose
 * inner kernels are recorded themselves) are left out, so nothing is counted twice. "other" is step wall time
 * not inside any kernel (JS, tape bookkeeping, the optimizer's scheduling).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createViT, describeBackend, initBackend } from '@vpeft/core';
import { buildSetting, type SettingName } from './lib/settings';
import { unregisterWasmKernels } from './lib/kernel-toggle';
import { createTrainStep } from './lib/train-step';

const { values } = parseArgs({
  options: {
    kernels: { type: 'string', default: 'both' },
    modes: { type: 'string', default: 'lora,full' },
    batch: { type: 'string', default: '8' },
    top: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    'unregister-kernels': { type: 'string', default: '' },
  },
});

interface KernelTotal { name: string; ms: number; calls: number }
interface ProfileResult { kernels: string; backend: string; mode: SettingName; batch: number; wallMs: number; kernelMs: number; top: KernelTotal[]; skip?: string }

async function profileHere(fast: boolean): Promise<ProfileResult[]> {
  const backend = await initBackend({ backend: 'wasm', fastKernels: fast });
  unregisterWasmKernels(values['unregister-kernels']);
  const batch = Number(values.batch);
  const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
  const images = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10) as tf.Tensor2D;
  const results: ProfileResult[] = [];
  for (const mode of values.modes!.split(',') as SettingName[]) {
    const base = { kernels: fast ? 'fast' : 'stock', backend: describeBackend(backend), mode, batch };
    const built = await buildSetting(vit, mode, 10);
    if ('skip' in built) {
      results.push({ ...base, wallMs: 0, kernelMs: 0, top: [], skip: built.skip });
      continue;
    }
    const optimizer = tf.train.adam(1e-4);
    const train = createTrainStep(built.model, optimizer);
    await train(images, labels);
    const t0 = performance.now();
    const info = await tf.profile(async () => { await train(images, labels); });
    const wallMs = performance.now() - t0;
    const totals = new Map<string, KernelTotal>();
    for (const k of info.kernels) {
      // tf.customGrad ops (lean GELU, LayerNorm) show up as "forward" wrappers around kernels already counted.
      if (tf.getKernel(k.name, 'wasm') === undefined) continue;
      const t = totals.get(k.name) ?? { name: k.name, ms: 0, calls: 0 };
      t.ms += k.kernelTimeMs as number;
      t.calls += 1;
      totals.set(k.name, t);
    }
    const all = [...totals.values()].sort((a, b) => b.ms - a.ms);
    results.push({ ...base, wallMs, kernelMs: all.reduce((s, k) => s + k.ms, 0), top: all.slice(0, Number(values.top)) });
    optimizer.dispose();
    built.model.dispose();
    vit.parameters.freeze();
  }
  images.dispose();
  labels.dispose();
  vit.dispose();
  return results;
}

function runChild(kernels: 'fast' | 'stock'): ProfileResult[] {
  const args = [...process.execArgv, process.argv[1]!, '--kernels', kernels, '--modes', values.modes!, '--batch', values.batch!, '--top', values.top!, '--unregister-kernels', values['unregister-kernels']!, '--json'];
  const out = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
  if (out.status !== 0) throw new Error(`profiling with ${kernels} kernels failed (exit ${out.status})`);
  return JSON.parse(out.stdout.slice(out.stdout.indexOf('['))) as ProfileResult[];
}

function print(results: ProfileResult[]): void {
  for (const r of results) {
    console.log(`\n${r.mode} b${r.batch}, ${r.kernels} kernels — ${r.backend}`);
    if (r.skip) {
      console.log(`  skipped: ${r.skip}`);
      continue;
    }
    console.log(`  step ${(r.wallMs / 1000).toFixed(2)} s under tf.profile; kernels ${(r.kernelMs / 1000).toFixed(2)} s; other ${((r.wallMs - r.kernelMs) / 1000).toFixed(2)} s`);
    console.log('  | kernel | calls | total ms | share of step |');
    console.log('  |---|---|---|---|');
    for (const k of r.top) console.log(`  | ${k.name} | ${k.calls} | ${k.ms.toFixed(0)} | ${((100 * k.ms) / r.wallMs).toFixed(1)}% |`);
  }
}

if (values.kernels === 'both') {
  print([...runChild('fast'), ...runChild('stock')]);
} else {
  if (values.kernels !== 'fast' && values.kernels !== 'stock') throw new Error(`--kernels: expected fast, stock or both, got "${values.kernels}"`);
  const results = await profileHere(values.kernels === 'fast');
  if (values.json) console.log(JSON.stringify(results));
  else print(results);
}
