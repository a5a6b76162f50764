/**
 * The matrix products inside a real LoRA train step (ViT-Ti/16 at 224, LoRA r=8 on q and v, one
 * micro-batch of 8 images, wasm, one thread): every BatchMatMul and _FusedMatMul kernel call is timed
 * and logged (shapes, transposes, the route the fast kernels take and what it copies or packs), then
 * aggregated per class into GFLOP/s — to compare with `pnpm bench:gemm`'s rates for the same shapes
 * measured alone.
 *
 *   pnpm bench:products                 # 3 timed steps after one warm-up, median per class
 *   pnpm bench:products --steps 5 --calls   # also every call of the last step
 *   pnpm bench:products --unregister-kernels VpeftQkvAttention,VpeftQkvAttentionGrad   # attention composed
 *
 * Classes: forward linear (x·W + b), dX of a frozen weight (dY·Wᵀ), dW (Xᵀ·dY: needed only for
 * trainable weights), the attention products q·kᵀ and p·v and their gradients (inside vpeft's fused
 * attention kernels where wasm registers them: their time includes softmax and its gradient), LoRA's rank-8
 * products (a dimension of 16 or less: q and v factors stacked) and the rest (the head). A call's
 * phase (forward or backward) is known from when it runs: the loss function is the forward pass.
 * Then `pnpm bench:gemm`'s shapes are timed alone in the same process, and the step is compared with
 * the products-only ceiling they give (lib/vit-products.ts): the step time if only its products ran,
 * at those rates. Times are this process's CPU time by default (`--clock cpu`: robust when other
 * jobs share the cores, equal to wall time on an idle machine for this single-threaded backend), or
 * elapsed time (`--clock wall`).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulRoute, fusedMatMulRoute, planMatMul } from '@vpeft/backend-wasm';
import { createViT, describeBackend, initBackend } from '@vpeft/core';
import { unregisterWasmKernels } from './lib/kernel-toggle';
import { buildSetting } from './lib/settings';
import { median } from './lib/train-step';
import { loraCeilingSeconds, measureProductRates, now, type Clock } from './lib/vit-products';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3' },
    batch: { type: 'string', default: '8' },
    calls: { type: 'boolean', default: false },
    clock: { type: 'string', default: 'cpu' },
    seconds: { type: 'string', default: '1' },
    'unregister-kernels': { type: 'string', default: '' },
  },
});
if (values.clock !== 'cpu' && values.clock !== 'wall') throw new Error(`--clock: expected cpu or wall, got "${values.clock}"`);
const clock = values.clock as Clock;

interface Call {
  kernel: string;
  phase: 'forward' | 'backward';
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  bias: boolean;
  route: string;
  /** Operands the route materialises (transposes) and XNNPACK operators it packs. */
  transposes: number;
  packs: number;
  flops: number;
  ms: number;
}

let phase: Call['phase'] = 'forward';
let depth = 0;
let calls: Call[] = [];
/**
 * Right operands XNNPACK has packed, as given and transposed: its operator cache lives as long as the
 * tensor's data, and the fast kernels keep a transposed right operand as long as its source (within
 * their budget, which ViT-Ti's weights fit).
 */
const packed = { plain: new WeakSet<object>(), transposed: new WeakSet<object>() };
/** Right operands whose transpose the fast kernels keep (as long as the source lives). */
const transposed = new WeakSet<object>();

/** vpeft's attention on the qkv layout (core's qkvAttention), its products run inside these kernels. */
const ATTENTION_KERNELS = ['VpeftQkvAttention', 'VpeftQkvAttentionGrad'];

/** Wraps the registered wasm kernel `name` with a timer that logs outermost calls. */
function instrument(name: string): void {
  const config = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      depth++;
      const t0 = now(clock);
      try {
        return config.kernelFunc(args);
      } finally {
        const ms = now(clock) - t0;
        depth--;
        if (depth === 0) calls.push(describe(name, args.inputs, args.attrs as Record<string, unknown>, ms));
      }
    },
  });
}

function describe(kernel: string, inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>, ms: number): Call {
  if (ATTENTION_KERNELS.includes(kernel)) {
    // q·kᵀ and p·v forward; dp, dq, dk and dv backward: 2·B·heads·N²·hd flops each (softmax and its gradient inside).
    const [b, n, width] = inputs.qkv!.shape as [number, number, number];
    const products = kernel === ATTENTION_KERNELS[0] ? 2 : 4;
    return { kernel, phase, a: inputs.qkv!.shape, b: [], transposeA: false, transposeB: false, bias: false, route: 'fused qkv', transposes: 0, packs: 0, flops: products * 2 * b * n * n * (width / 3), ms };
  }
  const { a, b, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const route =
    kernel === '_FusedMatMul'
      ? fusedMatMulRoute(plan, transposeA, transposeB, bias?.shape, String(attrs.activation ?? 'linear')).route
      : batchMatMulRoute(plan, transposeA, transposeB);
  let packs = 0;
  if (route === 'shared-right') {
    // The caller's right operand (or its kept transpose) goes to XNNPACK: packed once per tensor.
    const seen = transposeB ? packed.transposed : packed.plain;
    if (!seen.has(b.dataId)) packs = 1;
    seen.add(b.dataId);
  } else if (route === 'per-slice') {
    packs = plan.outBatch;
  } else if (route !== 'stock' && route !== 'native-slices' && route !== 'native') {
    packs = 1; // a fresh (transposed) right operand
  }
  // A transposed right operand of a 2-D product is kept while its source lives (transposed once).
  let transposes = 0;
  if (route !== 'stock') {
    transposes = Number(transposeA && route !== 'native' && route !== 'native-slices') + Number(route === 'shared-left');
    const kept = transposeB && (route === 'shared-right' || route === 'native');
    if (transposeB && !(kept && transposed.has(b.dataId))) transposes++;
    if (kept) transposed.add(b.dataId);
  }
  return {
    kernel,
    phase,
    a: a.shape,
    b: b.shape,
    transposeA,
    transposeB,
    bias: bias != null,
    route,
    transposes,
    packs,
    flops: 2 * plan.outBatch * plan.m * plan.k * plan.n,
    ms,
  };
}

/** The class of a product, from its phase, shapes and transposes (see the file comment). */
function classify(c: Call): string {
  if (ATTENTION_KERNELS.includes(c.kernel)) return c.phase === 'forward' ? 'attn fused forward (q·kᵀ, softmax, p·v)' : 'attn fused grad (dp, softmax grad, dq, dk, dv)';
  const plan = planMatMul(c.a, c.b, c.transposeA, c.transposeB);
  const { m, k, n, outBatch } = plan;
  if (Math.min(m, k, n) <= 16) return `LoRA rank-8 ${c.phase}`;
  if (outBatch > 1) {
    if (c.phase === 'forward') return k === 64 ? 'attn q·kᵀ forward' : 'attn p·v forward';
    if (c.transposeA) return 'attn grad Aᵀ·dY (dk, dv)';
    if (c.transposeB) return 'attn grad dY·Bᵀ (dp)';
    return 'attn grad dY·B (dq)';
  }
  if (m * 1 < 100) return 'other (head)';
  if (c.phase === 'forward') return 'forward linear';
  if (c.transposeA) return 'dW = Xᵀ·dY';
  if (c.transposeB) return 'dX = dY·Wᵀ';
  return 'other backward';
}

/** Whether a LoRA step needs the product (frozen dW is not needed; see bench:gemm's ceiling). */
const needed = (cls: string) => cls !== 'dW = Xᵀ·dY';

const batch = Number(values.batch);
const backend = await initBackend({ backend: 'wasm' });
unregisterWasmKernels(values['unregister-kernels']);
instrument('BatchMatMul');
instrument('_FusedMatMul');
for (const name of ATTENTION_KERNELS) if (tf.getKernel(name, 'wasm')) instrument(name);
const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
const built = await buildSetting(vit, 'lora', 10);
if ('skip' in built) throw new Error(`LoRA setting unavailable: ${built.skip}`);
const model = built.model;
const variables = model.trainableVariables();
const images = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10) as tf.Tensor2D;

/** One forward + backward of the LoRA model (the products of a train step; the optimizer has none). */
function step(): number {
  calls = [];
  const t0 = now(clock);
  const { grads, value } = tf.variableGrads(() => {
    phase = 'forward';
    const loss = tf.losses.softmaxCrossEntropy(labels, model.forward(images, { training: true })) as tf.Scalar;
    phase = 'backward';
    return loss;
  }, variables);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
  return now(clock) - t0;
}

const startLoad = loadavg()[0]!;
step();
const steps = Number(values.steps);
const stepMs: number[] = [];
const perStep: Array<Map<string, { calls: number; flops: number; ms: number; transposes: number; packs: number; routes: Set<string> }>> = [];
for (let s = 0; s < steps; s++) {
  stepMs.push(step());
  const classes = new Map<string, { calls: number; flops: number; ms: number; transposes: number; packs: number; routes: Set<string> }>();
  for (const c of calls) {
    const cls = classify(c);
    const t = classes.get(cls) ?? { calls: 0, flops: 0, ms: 0, transposes: 0, packs: 0, routes: new Set<string>() };
    t.calls++;
    t.flops += c.flops;
    t.ms += c.ms;
    t.transposes += c.transposes;
    t.packs += c.packs;
    t.routes.add(`${c.kernel === '_FusedMatMul' ? 'fused ' : ''}${c.route}`);
    classes.set(cls, t);
  }
  perStep.push(classes);
}

const last = perStep[perStep.length - 1]!;
const lastCalls = calls; // the last step's (the ceiling's timings below are logged too)
const names = [...last.keys()].sort((x, y) => last.get(y)!.ms - last.get(x)!.ms);
const stepMedian = median(stepMs);
console.log(`\nLoRA r=8 q,v on ViT-Ti/16 (224), batch ${batch}, forward + backward; ${describeBackend(backend)}`);
console.log(`${clock === 'cpu' ? 'CPU' : 'wall'} time; load average ${startLoad.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end; median of ${steps} steps after a warm-up\n`);
console.log('| class | calls | GFLOP | ms | GFLOP/s | share of step | routes | transposes | packs |');
console.log('|---|---|---|---|---|---|---|---|---|');
let productMs = 0;
let neededFlops = 0;
let allFlops = 0;
for (const name of names) {
  const ms = median(perStep.map((c) => c.get(name)?.ms ?? 0));
  const t = last.get(name)!;
  productMs += ms;
  allFlops += t.flops;
  if (needed(name)) neededFlops += t.flops;
  console.log(
    `| ${name} | ${t.calls} | ${(t.flops / 1e9).toFixed(2)} | ${ms.toFixed(0)} | ${(t.flops / ms / 1e6).toFixed(1)} | ` +
      `${((100 * ms) / stepMedian).toFixed(1)}% | ${[...t.routes].join(', ')} | ${t.transposes} | ${t.packs} |`,
  );
}
console.log(`| **all products** | ${lastCalls.length} | ${(allFlops / 1e9).toFixed(2)} | ${productMs.toFixed(0)} | ${(allFlops / productMs / 1e6).toFixed(1)} | ${((100 * productMs) / stepMedian).toFixed(1)}% | | | |`);
console.log(`\nstep (forward + backward) ${stepMedian.toFixed(0)} ms; products ${productMs.toFixed(0)} ms; ` +
  `a LoRA step needs ${(neededFlops / 1e9).toFixed(2)} of the ${(allFlops / 1e9).toFixed(2)} GFLOP computed (no frozen dW)`);
const rates = measureProductRates(Number(values.seconds), clock);
const ceilingMs = 1000 * loraCeilingSeconds(rates) * (batch / 8);
console.log(`bench:gemm shapes alone: ${rates.map((r) => r.toFixed(1)).join(', ')} GFLOP/s (qkv, proj, fc1, fc2, q·kᵀ, p·v); ` +
  `products-only ceiling ${ceilingMs.toFixed(0)} ms = ${((100 * ceilingMs) / stepMedian).toFixed(1)}% of the step, ` +
  `${((100 * ceilingMs) / productMs).toFixed(1)}% of its products' time`);
if (values.calls) {
  console.log('\n| phase | kernel | a | b | tA | tB | bias | route | ms | GFLOP/s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const c of lastCalls) {
    console.log(`| ${c.phase} | ${c.kernel} | ${c.a.join('x')} | ${c.b.join('x')} | ${c.transposeA} | ${c.transposeB} | ${c.bias} | ${c.route} | ${c.ms.toFixed(2)} | ${(c.flops / c.ms / 1e6).toFixed(1)} |`);
  }
}
tf.dispose([images, labels]);
model.dispose();
vit.dispose();
