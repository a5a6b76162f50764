/**
 * The wall behind the ViT training speed: matrix-product throughput (GFLOP/s) of the wasm backend
 * against PyTorch on CPU, for the products of a ViT-Ti/16 (224) step at batch 8, on one thread, on two
 * (PyTorch threads; wasm as two processes, since wasm computes on one thread in Node), and the LoRA
 * step rate those products allow if nothing else took time.
 *
 *   pnpm bench:gemm                 # wasm 1 process, wasm 2 processes, PyTorch 1 and 2 threads
 *   pnpm bench:gemm --no-torch
 *
 * The ceiling divides the FLOPs of those products in a LoRA step (passes per shape: see
 * lib/vit-products.ts) by each shape's measured rate. Run on an idle machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend } from '@vpeft/core';
import { IMAGES, loraCeilingSeconds, measureProductRates, VIT_TI_PRODUCTS as SHAPES } from './lib/vit-products';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '1.5' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);

/** GFLOP/s of tf.matMul per shape on this process's backend (median over ~`seconds` per shape). */
async function measureWasm(): Promise<{ backend: string; gflops: number[] }> {
  const backend = await initBackend({ backend: 'wasm' });
  return { backend: describeBackend(backend), gflops: measureProductRates(seconds) };
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
const loraCeiling = (gflops: number[]) => IMAGES / loraCeilingSeconds(gflops);

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
