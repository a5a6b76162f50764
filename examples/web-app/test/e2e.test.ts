import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, applyPeft, initBackend, loadPeftModel, mulberry32, type PeftModel } from '@vpeft/core';
import { lora } from '@vpeft/method-lora';
import { loadPretrainedViTMnist, mnistToImages } from '@vpeft/pretrained';
import type { Browser, Page } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vpeft } from '../../../packages/cli/test/spawn-cli';
import { BUNDLED_DIGITS } from '../src/bundled-task';
import { buildAndServe, bundledTestDigits, collectErrors, launchChromium, openApp, pageLogits, trainBundled, uploadAdapter } from './harness';

let server: PreviewServer;
let url: string;
let browser: Browser;
let page: Page;
let errors: string[];
let downloads: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ({ server, url } = await buildAndServe());
  browser = await launchChromium();
  page = await browser.newPage();
  errors = collectErrors(page);
  downloads = await mkdtemp(join(tmpdir(), 'vpeft-web-app-'));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

/** Node's logits for `pixels` (28x28 grey in [0, 1]) from `model`. */
async function nodeLogits(model: PeftModel, pixels: number[][]): Promise<number[][]> {
  const x = mnistToImages(pixels);
  const out = model.predict(x);
  const rows = (await out.array()) as number[][];
  tf.dispose([x, out]);
  return rows;
}

/** Chance accuracy 1/k plus its one-sided 99.9% binomial quantile over n images (normal approximation). */
const chanceBound = (k: number, n: number) => 1 / k + 3.09 * Math.sqrt(((1 / k) * (1 - 1 / k)) / n);

const maxAbsDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));

async function waitForFiles(dir: string, names: string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const present = await readdir(dir);
    if (names.every((n) => present.includes(n))) {
      const sizes = await Promise.all(names.map((n) => stat(join(dir, n)).then((s) => s.size)));
      if (sizes.every((s) => s > 0)) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`downloads ${names.join(', ')} did not appear in ${dir}`);
}

describe('the web app in headless Chromium (wasm backend)', () => {
  const { pixels } = bundledTestDigits();
  let browserLogits: number[][];

  it('fine-tunes LoRA on the bundled digits above chance, exports the adapter and loads it back (from files and from IndexedDB)', async () => {
    const runtime = await openApp(page, url, 'wasm');
    expect(runtime).toMatch(/^wasm/);
    const { accuracy, imagesPerSecond } = await trainBundled(page, { method: 'lora', epochs: 6 });
    const k = BUNDLED_DIGITS.digits.length;
    expect(accuracy).toBeGreaterThan(chanceBound(k, k * BUNDLED_DIGITS.test));
    expect(imagesPerSecond).toBeGreaterThan(0);
    expect(await page.$$eval('#confusion tr', (rows) => rows.length)).toBe(k + 1);

    browserLogits = await pageLogits(page, pixels);
    await page.click('#export');
    await waitForFiles(downloads, [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]);

    await uploadAdapter(page, [join(downloads, ADAPTER_CONFIG_FILE), join(downloads, ADAPTER_WEIGHTS_FILE)]);
    expect(Number(await page.$eval('#eval-summary', (e) => (e as HTMLElement).dataset.accuracy))).toBe(accuracy);
    expect(maxAbsDiff(await pageLogits(page, pixels), browserLogits)).toBe(0);

    // Kept in IndexedDB and loaded from there.
    await page.$eval('#adapter-name', (e) => ((e as HTMLInputElement).value = 'e2e'));
    await page.click('#save-browser');
    await page.waitForFunction(() => document.querySelector('#adapter-status')?.textContent === 'kept in this browser as "e2e"');
    await page.click('#load-browser');
    await page.waitForFunction(() => document.querySelector('#adapter-status')?.textContent?.startsWith('loaded:'));
    expect(maxAbsDiff(await pageLogits(page, pixels), browserLogits)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('the adapter exported in the browser loads in Node (core loadPeftModel) with the same logits (1e-4), and vpeft eval --adapter scores it', async () => {
    const model = await loadPeftModel(await loadPretrainedViTMnist(), downloads);
    expect(model.classNames).toEqual(BUNDLED_DIGITS.digits.map(String));
    expect(maxAbsDiff(await nodeLogits(model, pixels), browserLogits)).toBeLessThan(1e-4);
    model.dispose({ backbone: true });

    // And the CLI evaluates it, on the bundled MNIST's validation split of the same digits.
    const run = await vpeft(['eval', '--backbone', 'vit_tiny_patch7_28_mnist04', '--adapter', downloads, '--data', 'mnist:classes=5|6|7|8|9', '--split', 'val', '--backend', 'wasm', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { top1, count } = JSON.parse(run.stdout) as { top1: number; count: number };
    expect(top1).toBeGreaterThan(chanceBound(BUNDLED_DIGITS.digits.length, count));
  });

  it('an adapter saved in Node loads in the browser with the same logits (1e-4)', async () => {
    const model = applyPeft(await loadPretrainedViTMnist(), lora({ r: 4 }), { numClasses: 3, classNames: ['a', 'b', 'c'], seed: 3 });
    const random = mulberry32(11);
    for (const p of model.trainableParameters()) {
      tf.tidy(() => p.variable.assign(tf.tensor(Float32Array.from({ length: p.variable.size }, () => random() - 0.5), p.variable.shape)));
    }
    const dir = join(downloads, 'from-node');
    await model.saveAdapter(dir);
    const expected = await nodeLogits(model, pixels);
    model.dispose({ backbone: true });
    expect(await uploadAdapter(page, [join(dir, ADAPTER_CONFIG_FILE), join(dir, ADAPTER_WEIGHTS_FILE)])).toContain('3 classes (a, b, c)');
    expect(maxAbsDiff(await pageLogits(page, pixels), expected)).toBeLessThan(1e-4);
    expect(errors).toEqual([]);
  });
});
