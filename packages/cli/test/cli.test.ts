import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/index';

let stdout = '';
let stderr = '';
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('vpeft CLI', () => {
  it.each(['train', 'eval', 'inspect', 'merge', 'bench', 'convert', 'demo', 'cache'])('%s --help prints its usage and exits 0', async (command) => {
    expect(await runCli([command, '--help'])).toBe(0);
    expect(stdout).toContain(`vpeft ${command}`);
    expect(stderr).toBe('');
  });

  it('inspect prints the backend and a parameter table; --json gives the same numbers', async () => {
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3'])).toBe(0);
    expect(stdout).toMatch(/backend: +wasm/);
    expect(stdout).toMatch(/backbone +\d/);
    stdout = '';
    expect(await runCli(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3', '--json'])).toBe(0);
    const result = JSON.parse(stdout) as { summary: { trainableTotal: number; backboneParams: number } };
    // Linear probe on a width-32 ViT: the head has 32·3 + 3 parameters.
    expect(result.summary.trainableTotal).toBe(32 * 3 + 3);
  });

  it('exits 2 with a clear message on bad arguments', async () => {
    expect(await runCli(['inspect', '--method', 'nosuchmethod:r=8'])).toBe(2);
    expect(stderr).toMatch(/unknown method "nosuchmethod".*installed methods:/);
    expect(await runCli(['inspect', '--classes', 'zero'])).toBe(2);
    expect(stderr).toMatch(/--classes expects a positive integer/);
    expect(await runCli(['inspect', '--backbone', 'resnet9000'])).toBe(2);
    expect(stderr).toMatch(/unknown backbone "resnet9000"; known: .*mobilenet_v2/);
    expect(await runCli(['frobnicate'])).toBe(2);
    expect(stderr).toMatch(/unknown command "frobnicate"/);
    expect(await runCli(['inspect', '--no-such-flag'])).toBe(2);
    expect(await runCli(['merge', '--backbone', 'vit_test_patch8_32'])).toBe(2);
    expect(stderr).toMatch(/needs --adapter/);
  });
});

/** `vpeft eval` of the saved adapter (one thread) scores the test split as the training run reported. */
async function expectEvalReproducesTest(adapterDir: string, report: { testTop1: number; test: { count: number } }): Promise<void> {
  stdout = '';
  expect(await runCli(['eval', '--backbone', 'vit_test_patch8_32', '--adapter', adapterDir, '--data', 'mnist:classes=0|1', '--json'])).toBe(0);
  const evaluation = JSON.parse(stdout) as { top1: number; count: number };
  expect(evaluation.count).toBe(report.test.count);
  expect(evaluation.top1).toBeCloseTo(report.testTop1, 6);
}

describe('vpeft train / eval end to end (tiny ViT, two MNIST classes)', () => {
  it('trains LoRA, writes a resumable checkpoint and an adapter, and eval reproduces the test accuracy', async () => {
    const { mkdtemp, rm, readdir } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-cli-'));
    try {
      const args = ['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--method', 'lora:r=4', '--epochs', '1', '--batch-size', '50', '--out', dir, '--json'];
      expect(await runCli(args)).toBe(0);
      const result = JSON.parse(stdout) as { report: { testTop1: number; trainableExcludingHead: number; test: { count: number } } };
      // r=4 on q and v of 2 blocks of width 32: 2 · 2 · 4 · (32 + 32).
      expect(result.report.trainableExcludingHead).toBe(2 * 2 * 4 * (32 + 32));
      expect(await readdir(join(dir, 'adapter'))).toEqual(['adapter.safetensors', 'adapter_config.json']);
      expect(await readdir(join(dir, 'checkpoints'))).toContain('last');
      await expectEvalReproducesTest(join(dir, 'adapter'), result.report);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trains with --workers 2 (data-parallel gradients on worker threads; validation and test scored there too)', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-workers-'));
    try {
      const args = ['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--method', 'bitfit', '--epochs', '1', '--batch-size', '100', '--workers', '2', '--out', dir, '--json'];
      expect(await runCli(args)).toBe(0);
      const result = JSON.parse(stdout) as { report: { fit: { steps: number }; testTop1: number; test: { count: number } } };
      expect(result.report.fit.steps).toBe(8);
      expect(result.report.test.count).toBeGreaterThan(1000);
      // One thread scores the saved adapter as the workers scored it.
      await expectEvalReproducesTest(join(dir, 'adapter'), result.report);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says when --resume finds no checkpoint to continue (a fresh or mistyped --out), and not when it does', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-resume-'));
    try {
      const args = ['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--method', 'bitfit', '--epochs', '1', '--batch-size', '100', '--workers', '1', '--out', dir, '--resume'];
      expect(await runCli(args)).toBe(0);
      expect(stderr).toContain(`--resume: no checkpoint in ${join(dir, 'checkpoints')} yet; training from the start`);
      stderr = '';
      expect(await runCli(args)).toBe(0);
      expect(stderr).not.toContain('no checkpoint');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad recipe value and an unknown config key with the option named', async () => {
    expect(await runCli(['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist', '--epochs', '0'])).toBe(2);
    expect(stderr).toMatch(/--epochs expects a positive integer, got "0"/);
    expect(await runCli(['train', '--backbone', 'vit_test_patch8_32', '--data', 'imagenet'])).toBe(2);
    expect(stderr).toMatch(/unknown dataset kind "imagenet"/);
  });
});

describe('vpeft merge', () => {
  it('writes timm-named merged weights whose logits equal the unmerged adapter model', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const tf = await import('@tensorflow/tfjs-core');
    const { applyPeft, loadPeftModel, loadViT, readSafetensors, createViT } = await import('@vpeft/core');
    const { lora } = await import('@vpeft/method-lora');
    const { trainSteps, randomBatch, maxAbsDiff } = await import('@vpeft/core/testing');
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-merge-'));
    try {
      // The CLI's vit_test_patch8_32 backbone is createViT's seed-0 random init; build the same here.
      const model = applyPeft(createViT('vit_test_patch8_32'), lora({ r: 4, slices: ['all'] }), { numClasses: 3 });
      const batch = randomBatch(model.backbone, 2, 3);
      trainSteps(model, batch, 2);
      await model.saveAdapter(join(dir, 'adapter'));
      const out = join(dir, 'merged.safetensors');
      expect(await runCli(['merge', '--backbone', 'vit_test_patch8_32', '--adapter', join(dir, 'adapter'), '--out', out])).toBe(0);
      expect(stdout).toMatch(/merged lora into/);
      const merged = await loadViT({ weights: out });
      const file = await readSafetensors(out);
      const w = file.tensors.get('head.weight')!;
      const headW = tf.transpose(tf.tensor2d(w.data, w.shape as [number, number]));
      const mergedLogits = tf.add(tf.matMul(merged.forward(batch.x), headW), tf.tensor1d(file.tensors.get('head.bias')!.data));
      const reference = (await loadPeftModel(createViT('vit_test_patch8_32'), join(dir, 'adapter'))).predict(batch.x);
      expect(maxAbsDiff(mergedLogits.dataSync(), reference.dataSync())).toBeLessThan(1e-4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
