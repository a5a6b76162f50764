/**
 * Micro-benchmark: GFLOP/s of tfjs-backend-wasm's stock BatchMatMul vs vpeft's fast kernel on
 * ViT-Ti-like shapes (batch 8, 197 tokens, width 192, 3 heads of 64, MLP 768), forward and the
 * transposed products the backward pass runs. Run from packages/backend-wasm: `npx tsx bench/matmul.bench.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerFastWasmKernels, unregisterFastWasmKernels } from '../src/index';

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const B = 8;
const T = 197;
const D = 192;
const H = 3;
const HD = 64;
const TOKENS = B * T;

const CASES: Case[] = [
  { name: 'qkv forward     x W', a: [TOKENS, D], b: [D, 3 * D], transposeA: false, transposeB: false },
  { name: 'mlp1 forward    x W', a: [TOKENS, D], b: [D, 4 * D], transposeA: false, transposeB: false },
  { name: 'attn scores     q k^T', a: [B * H, T, HD], b: [B * H, T, HD], transposeA: false, transposeB: true },
  { name: 'attn apply      p v', a: [B * H, T, T], b: [B * H, T, HD], transposeA: false, transposeB: false },
  { name: 'qkv dX          dy W^T', a: [TOKENS, 3 * D], b: [D, 3 * D], transposeA: false, transposeB: true },
  { name: 'qkv dW          x^T dy', a: [TOKENS, D], b: [TOKENS, 3 * D], transposeA: true, transposeB: false },
  { name: 'attn dV         p^T dy', a: [B * H, T, T], b: [B * H, T, HD], transposeA: true, transposeB: false },
  { name: 'attn dK         dS^T q', a: [B * H, T, T], b: [B * H, T, HD], transposeA: true, transposeB: false },
  { name: 'attn dP         dy v^T', a: [B * H, T, HD], b: [B * H, T, HD], transposeA: false, transposeB: true },
];

function flops(c: Case): number {
  const m = c.transposeA ? c.a[c.a.length - 1] : c.a[c.a.length - 2];
  const k = c.transposeA ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
  const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  const batch = c.a.slice(0, -2).reduce((x, y) => x * y, 1);
  return 2 * batch * m * k * n;
}

/** Median seconds per call over `minTime` seconds (at least 3 calls) after one warm-up call. */
function time(f: () => void, minTime: number): number {
  f();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || performance.now() - start < minTime * 1000) {
    const t0 = performance.now();
    f();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)];
}

/** Stock and fast timings, interleaved over `rounds` rounds (the best median of each is kept). */
function compare(c: Case, a: tf.Tensor, b: tf.Tensor, rounds = 3): { stock: number; fast: number } {
  let stock = Infinity;
  let fast = Infinity;
  for (let r = 0; r < rounds; r++) {
    unregisterFastWasmKernels();
    stock = Math.min(stock, time(() => run(c, a, b), 0.5));
    registerFastWasmKernels();
    fast = Math.min(fast, time(() => run(c, a, b), 0.5));
  }
  return { stock, fast };
}

function run(c: Case, a: tf.Tensor, b: tf.Tensor): void {
  const y = tf.matMul(a, b, c.transposeA, c.transposeB);
  y.dataSync();
  y.dispose();
}

async function main(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? 2 : 1;
  console.log(`backend: ${tf.getBackend()}, simd ${simd}, threads ${threads}`);
  console.log(`${'case'.padEnd(24)} ${'shapes'.padEnd(38)} ${'stock GFLOP/s'.padStart(14)} ${'fast GFLOP/s'.padStart(13)} ${'speed-up'.padStart(9)}`);
  for (const c of CASES) {
    const a = tf.randomNormal(c.a);
    const b = tf.randomNormal(c.b);
    const { stock, fast } = compare(c, a, b);
    const shapes = `[${c.a}]${c.transposeA ? 'T' : ''} x [${c.b}]${c.transposeB ? 'T' : ''}`;
    const g = (s: number) => flops(c) / s / 1e9;
    console.log(
      `${c.name.padEnd(24)} ${shapes.padEnd(38)} ${g(stock).toFixed(1).padStart(14)} ${g(fast).toFixed(1).padStart(13)} ${(stock / fast).toFixed(1).padStart(8)}x`,
    );
    a.dispose();
    b.dispose();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
