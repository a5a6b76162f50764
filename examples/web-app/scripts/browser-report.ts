/**
 * Screenshots of each screen and img/s per backend, in headless Chromium (Debian's chromium):
 * `pnpm --filter @vpeft-example/web-app report` (builds the app, serves it with `vite preview`).
 * For each backend (wasm, webgl, webgpu; the GPU ones on SwiftShader when there is no GPU) it trains
 * LoRA on the bundled digits and times inference on the held-out images, then writes
 * `screenshots/*.png` (from the wasm run) and `screenshots/report.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { APP, buildAndServe, bundledTestDigits, collectErrors, launchChromium, openApp, trainBundled } from '../test/harness';

const SCREENS = ['screen-data', 'screen-method', 'screen-train', 'screen-eval', 'screen-adapter', 'screen-classify'];
const OUT = join(APP, 'screenshots');
const EPOCHS = Number(process.env.REPORT_EPOCHS ?? 3);
const INFERENCE_REPEATS = 5;

interface BackendResult {
  backend: string;
  runtime?: string;
  trainImagesPerSecond?: number;
  inferenceImagesPerSecond?: number;
  accuracy?: number;
  error?: string;
  consoleErrors?: string[];
}

/** Images per second of `vpeft.logits` on the held-out digits, timed in the page after one warm-up call. */
async function inferenceSpeed(page: Page, pixels: number[][]): Promise<number> {
  return page.evaluate(
    async (p, repeats) => {
      const api = (globalThis as unknown as { vpeft: { logits(p: number[][]): Promise<number[][]> } }).vpeft;
      await api.logits(p);
      const started = performance.now();
      for (let i = 0; i < repeats; i++) await api.logits(p);
      return (repeats * p.length) / ((performance.now() - started) / 1000);
    },
    pixels,
    INFERENCE_REPEATS,
  );
}

/** Picks held-out digits as PNG files in the classify screen (through its file input, so they are decoded as a user's files). */
async function classifyDigits(page: Page, pixels: number[][]): Promise<void> {
  await page.evaluate(async (digits) => {
    const transfer = new DataTransfer();
    for (const [n, grey] of digits.entries()) {
      const canvas = document.createElement('canvas');
      canvas.width = 28;
      canvas.height = 28;
      const context = canvas.getContext('2d')!;
      const image = context.createImageData(28, 28);
      grey.forEach((v, p) => image.data.set([255 * v, 255 * v, 255 * v, 255], 4 * p));
      context.putImageData(image, 0, 0);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
      transfer.items.add(new File([blob], `digit-${n}.png`, { type: 'image/png' }));
    }
    const input = document.querySelector<HTMLInputElement>('#classify-files')!;
    input.files = transfer.files;
    input.dispatchEvent(new Event('change'));
  }, pixels);
  await page.waitForFunction((count) => document.querySelectorAll('#predictions .prediction').length === count, {}, pixels.length);
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const { server, url } = await buildAndServe();
  const browser = await launchChromium({ gpu: true });
  const { pixels } = bundledTestDigits();
  const results: BackendResult[] = [];
  try {
    for (const backend of ['wasm', 'webgl', 'webgpu']) {
      const page = await browser.newPage();
      await page.setViewport({ width: 900, height: 900 });
      const errors = collectErrors(page);
      const result: BackendResult = { backend };
      try {
        result.runtime = await openApp(page, url, backend);
        const trained = await trainBundled(page, { method: 'lora', epochs: EPOCHS });
        result.trainImagesPerSecond = trained.imagesPerSecond;
        result.accuracy = trained.accuracy;
        result.inferenceImagesPerSecond = await inferenceSpeed(page, pixels);
        if (backend === 'wasm') {
          await classifyDigits(page, pixels.filter((_, i) => i % 16 === 0));
          for (const [i, id] of SCREENS.entries()) await (await page.$(`#${id}`))!.screenshot({ path: join(OUT, `${i + 1}-${id.replace('screen-', '')}.png`) });
        }
      } catch (error) {
        result.error = (error as Error).message.split('\n')[0];
        if (!result.runtime) result.runtime = await page.$eval('#backend-info', (e) => e.textContent ?? '').catch(() => undefined);
      }
      result.consoleErrors = errors;
      results.push(result);
      console.log(JSON.stringify(result));
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  await writeFile(join(OUT, 'report.json'), `${JSON.stringify({ date: new Date().toISOString(), epochs: EPOCHS, results }, null, 2)}\n`);
}

await main();
