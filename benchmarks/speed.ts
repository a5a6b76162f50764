/**
 * ViT-Ti/16 (224) train-step and inference throughput: vpeft (wasm) against tuned PyTorch on CPU.
 *
 *   pnpm bench:speed                                   # batch 8 and 32, every setting, both sides
 *   pnpm bench:speed --batch 32 --modes lora,bitfit    # select
 *   pnpm bench:speed --no-torch | --torch-only | --no-fast-kernels | --json
 *   pnpm bench:speed --workers 1                      # no data-parallel column (default: 2 workers)
 *   pnpm bench:speed --unregister-kernels VpeftQkvAttention,VpeftQkvAttentionGrad   # A/B a kernel (this thread only)
 *   pnpm bench:speed --clock cpu --workers 1 --no-torch   # the 1-thread column in this process's CPU time (busy machine)
 *
 * Each setting runs the same step on both sides (benchmarks/speed_torch.py is the PyTorch twin):
 * softmax cross-entropy + Adam on the trainable parameters; full FT, LoRA r=8 (alpha 8) on the q and v
 * slices of the fused qkv, BitFit, VPT-deep 10, linear probe; inference = no-grad forward.
 * Training settings also run on --workers worker threads (@vpeft/train's createDataParallelTrainer, each
 * with its own wasm heap, micro-batched inside; pool start not timed), in the same run.
 * Median of --steps timed steps after one warm-up. vpeft trains batches above --micro-batch (default 8)
 * by accumulating micro-batch gradients (the wasm32 heap caps at 4 GiB); same gradient, one update.
 * Peak memory: tf.profile's peakBytes on one extra step, and the wasm heap size (it never shrinks, so
 * it is the process's high-water mark so far). PyTorch runs afterwards in its own process with
 * OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 and torch.set_num_threads(--torch-threads, default 2).
 * Benchmarks are scripts with reports, never timed tests. Run on an idle machine: the load average at
 * start is printed, and anything else running on the 2 cores hurts the 2-thread PyTorch side most.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createViT, describeBackend, initBackend } from '@vpeft/core';
import { createDataParallelTrainer } from '@vpeft/train';
import { buildSetting, SETTINGS, SETTINGS_MODULE, type SettingName } from './lib/settings';
import { unregisterWasmKernels } from './lib/kernel-toggle';
import { createTrainStep, timedMedian, wasmHeapBytes } from './lib/train-step';
import type { Clock } from './lib/vit-products';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8,32' },
    modes: { type: 'string', default: SETTINGS.join(',') },
    steps: { type: 'string', default: '3' },
    'micro-batch': { type: 'string', default: '8' },
    'torch-threads': { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    'no-torch': { type: 'boolean', default: false },
    'torch-only': { type: 'boolean', default: false },
    'no-fast-kernels': { type: 'boolean', default: false },
    'unregister-kernels': { type: 'string', default: '' },
    clock: { type: 'string', default: 'wall' },
    json: { type: 'boolean', default: false },
  },
});

const batches = values.batch!.split(',').map(Number);
const modes = values.modes!.split(',') as SettingName[];
for (const m of modes) if (!SETTINGS.includes(m)) throw new Error(`--modes: unknown setting "${m}"; expected some of ${SETTINGS.join(', ')}`);
const steps = Number(values.steps);
const microBatch = Number(values['micro-batch']);
const workers = Number(values.workers);
if (values.clock !== 'wall' && values.clock !== 'cpu') throw new Error(`--clock: expected wall or cpu, got "${values.clock}"`);
const clock = values.clock as Clock;
const NUM_CLASSES = 10;
const MB = 2 ** 20;

interface VpeftRow { mode: SettingName; batch: number; imgPerS?: number; workersImgPerS?: number; peakTfMB?: number; wasmHeapMB?: number; trainable?: number; note?: string }
interface TorchRow { mode: string; batch: number; img_per_s: number; max_rss_mb: number; trainable: number }
const load = loadavg()[0]!;
const log = (line: string) => { if (!values.json) console.log(line); };
log(`load average at start: ${load.toFixed(2)}${load > 0.3 ? '  (the machine is busy: numbers will be low, PyTorch\'s 2 threads most)' : ''}`);

async function runVpeft(): Promise<{ backend: string; rows: VpeftRow[] }> {
  const backend = await initBackend({ fastKernels: !values['no-fast-kernels'] });
  unregisterWasmKernels(values['unregister-kernels']);
  const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
  const rows: VpeftRow[] = [];
  for (const batch of batches) {
    const images = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % NUM_CLASSES), 'int32'), NUM_CLASSES) as tf.Tensor2D;
    for (const mode of modes) {
      const built = await buildSetting(vit, mode, NUM_CLASSES);
      if ('skip' in built) {
        rows.push({ mode, batch, note: built.skip });
        log(`vpeft   ${mode.padEnd(9)} b${batch}: skipped: ${built.skip}`);
        continue;
      }
      const { model } = built;
      const optimizer = tf.train.adam(1e-4);
      const train = createTrainStep(model, optimizer, { microBatch });
      const step = mode === 'inference'
        ? async () => { const y = model.predict(images, { batchSize: microBatch }); await y.data(); y.dispose(); }
        : async () => { await train(images, labels); };
      try {
        const s = await timedMedian(step, steps, clock);
        const profile = await tf.profile(step);
        const row: VpeftRow = {
          mode, batch, imgPerS: batch / s, peakTfMB: profile.peakBytes / MB, wasmHeapMB: (wasmHeapBytes() ?? 0) / MB,
          trainable: mode === 'inference' ? 0 : model.trainableParameters().reduce((n, p) => n + p.variable.size, 0),
        };
        rows.push(row);
        log(`vpeft   ${mode.padEnd(9)} b${batch}: ${row.imgPerS!.toFixed(2)} img/s (${s.toFixed(2)} s/step), peak ${row.peakTfMB!.toFixed(0)} MB tensors, wasm heap ${row.wasmHeapMB!.toFixed(0)} MB`);
        if (workers > 1 && mode !== 'inference') {
          const trainer = await createDataParallelTrainer(model, { imports: [SETTINGS_MODULE], workers, microBatch });
          try {
            row.workersImgPerS = batch / (await timedMedian(() => trainer.step(images, labels, optimizer), steps));
          } finally {
            await trainer.dispose();
          }
          log(`vpeft   ${mode.padEnd(9)} b${batch}: ${row.workersImgPerS.toFixed(2)} img/s on ${workers} workers`);
        }
      } catch (error) {
        rows.push({ mode, batch, note: `failed: ${(error as Error).message.split('\n')[0]}` });
        log(`vpeft   ${mode.padEnd(9)} b${batch}: failed: ${(error as Error).message.split('\n')[0]}`);
      } finally {
        optimizer.dispose();
        model.dispose();
        vit.parameters.freeze();
      }
    }
    images.dispose();
    labels.dispose();
  }
  vit.dispose();
  return { backend: describeBackend(backend), rows };
}

function runTorch(): { setup?: Record<string, unknown>; rows: TorchRow[]; note?: string } {
  const script = fileURLToPath(new URL('./speed_torch.py', import.meta.url));
  const threads = values['torch-threads']!;
  const result = spawnSync('/usr/bin/python3', [script, '--batch', ...batches.map(String), '--modes', modes.join(','), '--steps', String(steps), '--threads', threads], {
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_NUM_THREADS: threads },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.error) return { rows: [], note: `could not run /usr/bin/python3: ${result.error.message}` };
  if (result.stdout.includes('PyTorch not found')) return { rows: [], note: 'PyTorch not found' };
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const rows = lines.filter((l) => l.kind === 'row') as unknown as TorchRow[];
  for (const r of rows) log(`pytorch ${r.mode.padEnd(9)} b${r.batch}: ${r.img_per_s.toFixed(2)} img/s`);
  return { setup: lines.find((l) => l.kind === 'setup'), rows, note: result.status === 0 ? undefined : `exit ${result.status}` };
}

const vpeft = values['torch-only'] ? { backend: 'not run', rows: [] as VpeftRow[] } : await runVpeft();
const torch = values['no-torch'] ? { rows: [] as TorchRow[], note: 'not run (--no-torch)' } : runTorch();

const fmt = (v: number | undefined, digits = 2) => (v === undefined ? '—' : v.toFixed(digits));
const table = batches.flatMap((batch) => modes.map((mode) => {
  const v = vpeft.rows.find((r) => r.mode === mode && r.batch === batch);
  const t = torch.rows.find((r) => r.mode === mode && r.batch === batch);
  const ratio = v?.imgPerS !== undefined && t ? v.imgPerS / t.img_per_s : undefined;
  const workersRatio = v?.workersImgPerS !== undefined && t ? v.workersImgPerS / t.img_per_s : undefined;
  return { mode, batch, vpeft: v?.imgPerS, vpeftWorkers: v?.workersImgPerS, torch: t?.img_per_s, ratio, workersRatio, peakTfMB: v?.peakTfMB, wasmHeapMB: v?.wasmHeapMB, torchRssMB: t?.max_rss_mb, note: v?.note };
}));

if (values.json) {
  console.log(JSON.stringify({ loadAverage: load, backend: vpeft.backend, microBatch, workers, steps, torch: { setup: torch.setup, note: torch.note }, table }, null, 2));
} else {
  console.log('');
  console.log(`load average at start ${load.toFixed(2)}, at the end ${loadavg()[0]!.toFixed(2)}`);
  console.log(`vpeft: ${vpeft.backend}; micro-batch ${microBatch}; median of ${steps} steps after 1 warm-up${clock === 'cpu' ? '; 1-thread column in CPU time' : ''}`);
  console.log(`pytorch: ${torch.note ?? `${torch.setup?.torch}, ${torch.setup?.threads} threads, BLAS ${torch.setup?.blas}`}`);
  console.log('');
  const x = (ratio: number | undefined) => (ratio === undefined ? '—' : `${ratio.toFixed(2)}×`);
  console.log(`| setting | batch | vpeft 1 thread img/s | vpeft ${workers} workers img/s | PyTorch img/s | vpeft/PyTorch (1 thread) | vpeft/PyTorch (${workers} workers) | vpeft peak tensors MB | wasm heap MB | PyTorch max RSS MB |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of table) {
    console.log(`| ${r.mode} | ${r.batch} | ${r.note ? `skipped (${r.note})` : fmt(r.vpeft)} | ${fmt(r.vpeftWorkers)} | ${fmt(r.torch)} | ${x(r.ratio)} | ${x(r.workersRatio)} | ${fmt(r.peakTfMB, 0)} | ${fmt(r.wasmHeapMB, 0)} | ${fmt(r.torchRssMB, 0)} |`);
  }
}
