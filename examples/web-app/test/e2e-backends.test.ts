import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWasmThreads, MAX_WASM_THREADS } from '../src/wasm-threads';
import { buildAndServe, bundledTestDigits, collectErrors, exportAdapter, launchChromium, maxAbsDiff, openApp, pageLogits, trainBundled, uploadAdapter } from './harness';

let server: PreviewServer;
let url: string;
let browser: Browser;
let downloads: string;

beforeAll(async () => {
  ({ server, url } = await buildAndServe());
  // SwiftShader WebGL keeps the page busy for minutes on a loaded machine: DevTools calls wait for it.
  browser = await launchChromium({ gpu: true, protocolTimeout: 600_000 });
  downloads = await mkdtemp(join(tmpdir(), 'vpeft-web-app-backends-'));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

/** A fresh page with its console errors collected. */
async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  return { page, errors: collectErrors(page) };
}

/** Every value `#stat-loss` shows from now on (one per training step), collected in the page. */
async function watchLosses(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const shown: number[] = [];
    (globalThis as unknown as { shownLosses: number[] }).shownLosses = shown;
    const stat = document.querySelector('#stat-loss')!;
    new MutationObserver(() => shown.push(Number(stat.textContent))).observe(stat, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => (globalThis as unknown as { shownLosses: number[] }).shownLosses);
}

const maxAbs = (rows: number[][]) => Math.max(...rows.flat().map(Math.abs));

/**
 * How far two float32 implementations of the ViT's forward pass may differ, relative to the logits'
 * size: the classic bound on a float32 inner product of length n summed in another order is n·u
 * (u = 2^-24) of the sum of |terms|; the longest here is the MLP's 768; errors add up, to first order,
 * over the 38 products on the path (patch embedding; per block of 6: qkv, scores, scores·v, projection,
 * fc1, fc2; the head), each input normalised by LayerNorm. 38 · 768 · 2^-24 = 1.7e-3.
 */
const FLOAT32_FORWARD_TOLERANCE = 38 * 768 * 2 ** -24;

/** SwiftShader's WebGL and WebGPU take minutes here (shader compilation, then software rendering). */
const GPU_TEST_TIMEOUT_MS = 600_000;

describe('the web app on each backend in headless Chromium (GPU backends on SwiftShader)', () => {
  const { pixels } = bundledTestDigits();
  const probe = pixels.filter((_, i) => i % 5 === 0);
  let adapter: string[];
  let webglLogits: number[][];

  it('the cross-origin isolated page runs tfjs wasm on the threads ?threads= asks for (2 here, past the cap of cores / 2 tfjs sets), by default on half the cores', async () => {
    const { page, errors } = await newPage();
    const runtime = await openApp(page, url, 'wasm', { threads: '2' });
    const { isolated, cores } = await page.evaluate(() => ({ isolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency }));
    expect(isolated).toBe(true);
    // tfjs's own count (getThreadsCount: its XNNPACK pool), which tfjs alone caps at cores / 2 (1 here).
    expect(runtime).toContain('2 threads');
    expect(runtime).toContain('cross-origin isolated');
    // The page reports its real core count again once the backend is up.
    const blank = await browser.newPage();
    expect(cores).toBe(await blank.evaluate(() => navigator.hardwareConcurrency));
    await blank.close();

    const byDefault = defaultWasmThreads(cores);
    expect(await openApp(page, url, 'wasm')).toContain(`${byDefault} thread${byDefault === 1 ? ',' : 's'}`);
    await page.goto(`${url}?backend=wasm&threads=0`);
    await page.waitForFunction(() => document.querySelector('#backend-info.error') !== null);
    expect(await page.$eval('#backend-info', (e) => e.textContent)).toBe(`?threads=0: expected a whole number of wasm threads from 1 to ${MAX_WASM_THREADS}`);
    await page.close();
    expect(errors.filter((e) => !e.includes('threads=0'))).toEqual([]);
  });

  it('webgl trains LoRA for a few steps with finite losses; wasm on 1 and 2 threads gives the same logits for its adapter', async () => {
    const { page, errors } = await newPage();
    expect(await openApp(page, url, 'webgl')).toMatch(/^webgl \(@tensorflow\/tfjs-backend-webgl; .+\)$/);
    const losses = await watchLosses(page);
    // One epoch: 120 images in 8 steps of 16.
    await trainBundled(page, { method: 'lora', epochs: 1, batchSize: 16 });
    const shown = await losses();
    expect(shown.length).toBe(8);
    expect(shown.every(Number.isFinite)).toBe(true);
    webglLogits = await pageLogits(page, probe);
    adapter = await exportAdapter(page, downloads);
    await page.close();
    expect(errors).toEqual([]);

    const wasmLogits: number[][][] = [];
    for (const threads of ['1', '2']) {
      const wasm = await newPage();
      expect(await openApp(wasm.page, url, 'wasm', { threads })).toContain(`${threads} thread`);
      await wasm.page.click('#load-digits');
      await uploadAdapter(wasm.page, adapter);
      wasmLogits.push(await pageLogits(wasm.page, probe));
      await wasm.page.close();
      expect(wasm.errors).toEqual([]);
    }
    expect(maxAbsDiff(wasmLogits[0]!, wasmLogits[1]!)).toBeLessThanOrEqual(FLOAT32_FORWARD_TOLERANCE * maxAbs(wasmLogits[0]!));
    expect(maxAbsDiff(webglLogits, wasmLogits[0]!)).toBeLessThanOrEqual(FLOAT32_FORWARD_TOLERANCE * maxAbs(wasmLogits[0]!));
  }, GPU_TEST_TIMEOUT_MS);

  it('webgpu runs the adapter with the logits of webgl; auto skips software GPUs (here both are SwiftShader: wasm)', async () => {
    const { page, errors } = await newPage();
    const webgpu = await openApp(page, url, 'webgpu');
    expect(webgpu).toMatch(/^webgpu \(@vpeft\/backend-webgpu; .+\)$/);
    await page.click('#load-digits');
    await uploadAdapter(page, adapter);
    expect(maxAbsDiff(await pageLogits(page, probe), webglLogits)).toBeLessThanOrEqual(FLOAT32_FORWARD_TOLERANCE * maxAbs(webglLogits));

    const webgl = await openApp(page, url, 'webgl');
    const expected = !webgpu.includes('(software)') ? 'webgpu' : !webgl.includes('(software)') ? 'webgl' : 'wasm';
    expect((await openApp(page, url, 'auto')).split(' ')[0]).toBe(expected);
    await page.close();
    expect(errors).toEqual([]);
  }, GPU_TEST_TIMEOUT_MS);
});
