/**
 * The wall behind the ViT training speed: matrix-product throughput (GFLOP/s) of the wasm backend
 * against PyTorch on CPU, for the products of a ViT-Ti/16 (224) step at batch 8, on one thread, on two
 * (PyTorch threads; wasm as two processes, since wasm computes on one thread in Node), and the LoRA
 * step rate those products allow if nothing else took time.
 *
 *   pnpm bench:gemm                 # wasm 1 process, wasm 2 processes, PyTorch 1 and 2 threads
 *   pnpm bench:gemm --no-torch
 *
 * LoRA (q, v) on every block back-propagates the input gradient through every product but computes no
 * frozen-weight gradient: per image, each linear product runs twice (forward, dX; same multiply-adds
 * as the forward shape) and each attention product three times (forward, two operand gradients).
 * The ceiling divides those FLOPs by each shape's measured rate. Run on an idle machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '@vpeft/core';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '1.5' },
    'no-torch': { type: 'boolean', default: false },
  },
});

/** [name, batch, M, K, N, passes in a LoRA step]; batch 8 of ViT-Ti/16: 8·197 = 1,576 tokens, 3 heads of 64. */
const SHAPES: Array<[string, number, number, number, number, number]> = [
  ['qkv 1576x192 · 192x576', 1, 1576, 192, 576, 2],
  ['proj 1576x192 · 192x192', 1, 1576, 192, 192, 2],
  ['fc1 1576x192 · 192x768', 1, 1576, 192, 768, 2],
  ['fc2 1576x768 · 768x192', 1, 1576, 768, 192, 2],
  ['attn q·kᵀ 24 x 197x64 · 64x197', 24, 197, 64, 197, 3],
  ['attn p·v 24 x 197x197 · 197x64', 24, 197, 197, 64, 3],
];
const IMAGES = 8;
const BLOCKS = 12;
const seconds = Number(values.seconds);

/** GFLOP/s of tf.matMul per shape on this process's backend (median over ~`seconds` per shape). */
async function measureWasm(): Promise<{ backend: string; gflops: number[] }> {
  const backend = await initBackend({ backend: 'wasm' });
  const gflops: number[] = [];
  for (const [, batch, m, k, n] of SHAPES) {
    const a = tf.randomUniform(batch > 1 ? [batch, m, k] : [m, k], 0, 1, 'float32', 1);
    const b = tf.randomUniform(batch > 1 ? [batch, k, n] : [k, n], 0, 1, 'float32', 2);
    const run = () => tf.tidy(() => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D)).dispose();
    for (let i = 0; i < 3; i++) run();
    const times: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline || times.length < 5) {
      const t0 = performance.now();
      run();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    gflops.push((2 * batch * m * k * n) / (times[times.length >> 1]! / 1000) / 1e9);
    tf.dispose([a, b]);
  }
  return { backend: describeBackend(backend), gflops };
}

if (values.child) {
  console.log(JSON.stringify(await measureWasm()));
  process.exit(0);
}

/** Runs `count` copies of this script with --child at once; per-shape GFLOP/s summed over them. */
async function wasmProcesses(count: number): Promise<number[]> {
  const script = fileURLToPath(import.meta.url);
  const outputs = await Promise.all(Array.from({ length: count }, () => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, '--child', '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`gemm child exited with ${code}`))));
  })));
  const results = outputs.map((o) => JSON.parse(o.trim().split('\n').pop()!) as { gflops: number[] });
  return SHAPES.map((_, i) => results.reduce((sum, r) => sum + r.gflops[i]!, 0));
}

function torch(threads: number): { setup?: Record<string, unknown>; gflops?: number[]; note?: string } {
  const script = fileURLToPath(new URL('./gemm_torch.py', import.meta.url));
  const shapes = JSON.stringify(SHAPES.map(([name, batch, m, k, n]) => [name, batch, m, k, n]));
  const result = spawnSync('/usr/bin/python3', [script, '--threads', String(threads), '--shapes', shapes, '--seconds', String(seconds)], {
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_NUM_THREADS: String(threads) },
    encoding: 'utf8',
  });
  if (result.error) return { note: `could not run /usr/bin/python3: ${result.error.message}` };
  if (result.stdout.includes('PyTorch not found')) return { note: 'PyTorch not found' };
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { setup: lines.find((l) => l.kind === 'setup'), gflops: lines.filter((l) => l.kind === 'row').map((l) => l.gflops as number) };
}

/** img/s of a LoRA step if its matrix products ran at `gflops` per shape and nothing else took time. */
function loraCeiling(gflops: number[]): number {
  const secondsPerBatch = SHAPES.reduce((sum, [, batch, m, k, n, passes], i) => sum + (BLOCKS * passes * 2 * batch * m * k * n) / (gflops[i]! * 1e9), 0);
  return IMAGES / secondsPerBatch;
}

console.error(`load average at start: ${loadavg()[0]!.toFixed(2)}`);
const one = await measureWasm();
const two = await wasmProcesses(2);
const columns: Array<{ label: string; gflops?: number[]; note?: string }> = [
  { label: 'wasm, 1 process', gflops: one.gflops },
  { label: 'wasm, 2 processes (sum)', gflops: two },
];
let torchSetup: Record<string, unknown> | undefined;
if (!values['no-torch']) {
  for (const threads of [1, 2]) {
    const t = torch(threads);
    torchSetup ??= t.setup;
    columns.push({ label: `PyTorch, ${threads} thread${threads > 1 ? 's' : ''}`, gflops: t.gflops, note: t.note });
  }
}
const fmt = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));
console.log(`\nwasm: ${one.backend}`);
console.log(`pytorch: ${columns.find((c) => c.note)?.note ?? `${torchSetup?.torch}, BLAS ${torchSetup?.blas}, OMP_WAIT_POLICY=PASSIVE`}`);
console.log(`\nGFLOP/s, median of ~${seconds} s per shape (ViT-Ti/16 at 224, batch 8):\n`);
console.log(`| product | ${columns.map((c) => c.label).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---').join('|')}|`);
SHAPES.forEach(([name], i) => console.log(`| ${name} | ${columns.map((c) => fmt(c.gflops?.[i])).join(' | ')} |`));
console.log(`| **LoRA step ceiling, img/s** (products only) | ${columns.map((c) => (c.gflops ? `**${loraCeiling(c.gflops).toFixed(1)}**` : '—')).join(' | ')} |`);
