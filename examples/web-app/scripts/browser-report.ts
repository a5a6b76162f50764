/**
 * Screenshots of each screen and img/s per backend, in headless Chromium (Debian's chromium):
 * `pnpm --filter @vpeft-example/web-app report` (builds the app, serves it with `vite preview`).
 * For each backend (wasm, webgl, webgpu; the GPU ones on SwiftShader when there is no GPU) it trains
 * LoRA on the bundled digits and times inference on the held-out images (where training does not
 * finish in REPORT_TRAIN_TIMEOUT_S, on the adapter the first backend trained, loaded from its files), then writes
 * `screenshots/*.png` (from the wasm run) and `screenshots/report-<backends>.json`
 * (`REPORT_BACKENDS=wasm,webgl` to choose, `REPORT_EPOCHS` for the epochs, default 3;
 * `REPORT_INFERENCE_ONLY=webgpu` times only inference there).
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '@vpeft/core';
import type { Page } from 'puppeteer-core';
import { APP, buildAndServe, bundledTestDigits, collectErrors, launchChromium, openApp, trainBundled, uploadAdapter } from '../test/harness';

const SCREENS = ['screen-data', 'screen-method', 'screen-train', 'screen-eval', 'screen-adapter', 'screen-classify'];
const OUT = join(APP, 'screenshots');
const EPOCHS = Number(process.env.REPORT_EPOCHS ?? 3);
const BACKENDS = (process.env.REPORT_BACKENDS ?? 'wasm,webgl,webgpu').split(',');
/** Backends to time inference on only (on the first backend's adapter), e.g. where training does not finish. */
const INFERENCE_ONLY = (process.env.REPORT_INFERENCE_ONLY ?? '').split(',').filter(Boolean);
const INFERENCE_REPEATS = 5;
/** How long a backend may take to train before it counts as not training here. */
const TRAIN_TIMEOUT_MS = Number(process.env.REPORT_TRAIN_TIMEOUT_S ?? 300) * 1000;

interface BackendResult {
  backend: string;
  runtime?: string;
  trainImagesPerSecond?: number;
  inferenceImagesPerSecond?: number;
  accuracy?: number;
  /** Why training did not finish (inference was then timed on the adapter an earlier backend trained). */
  trainError?: string;
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

/** Downloads the page's adapter into `dir` (Chrome's download behaviour) and waits for both files. */
async function exportAdapter(page: Page, dir: string): Promise<string[]> {
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
  await page.click('#export');
  const paths = [join(dir, ADAPTER_CONFIG_FILE), join(dir, ADAPTER_WEIGHTS_FILE)];
  for (let i = 0; i < 300 && !(await Promise.all(paths.map((f) => stat(f).then((s) => s.size > 0, () => false)))).every(Boolean); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return paths;
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const downloads = await mkdtemp(join(tmpdir(), 'vpeft-report-'));
  const { server, url } = await buildAndServe();
  const browser = await launchChromium({ gpu: true, protocolTimeout: TRAIN_TIMEOUT_MS + 60_000 });
  const { pixels } = bundledTestDigits();
  const results: BackendResult[] = [];
  let adapter: string[] | undefined;
  try {
    for (const backend of BACKENDS) {
      let page = await browser.newPage();
      await page.setViewport({ width: 900, height: 900 });
      let errors = collectErrors(page);
      const result: BackendResult = { backend };
      try {
        result.runtime = await openApp(page, url, backend);
        try {
          if (INFERENCE_ONLY.includes(backend)) throw new Error('training skipped (REPORT_INFERENCE_ONLY)');
          const trained = await trainBundled(page, { method: 'lora', epochs: EPOCHS, timeoutMs: TRAIN_TIMEOUT_MS });
          result.trainImagesPerSecond = trained.imagesPerSecond;
          result.accuracy = trained.accuracy;
          adapter ??= await exportAdapter(page, downloads);
        } catch (error) {
          // Training did not finish here: time inference on the adapter another backend trained, in a fresh page.
          result.trainError = (error as Error).message.slice(0, 300);
          if (!adapter) throw error;
          result.consoleErrors = errors;
          void page.close().catch(() => undefined);
          page = await browser.newPage();
          errors = collectErrors(page);
          await openApp(page, url, backend);
          await page.click('#load-digits');
          await uploadAdapter(page, adapter);
          result.accuracy = Number(await page.$eval('#eval-summary', (e) => (e as HTMLElement).dataset.accuracy));
        }
        result.inferenceImagesPerSecond = await inferenceSpeed(page, pixels);
        if (backend === 'wasm') {
          await classifyDigits(page, pixels.filter((_, i) => i % 16 === 0));
          for (const [i, id] of SCREENS.entries()) await (await page.$(`#${id}`))!.screenshot({ path: join(OUT, `${i + 1}-${id.replace('screen-', '')}.png`) });
        }
      } catch (error) {
        result.error = (error as Error).message.slice(0, 400);
      }
      result.consoleErrors = [...(result.consoleErrors ?? []), ...errors];
      results.push(result);
      console.log(JSON.stringify(result));
      void page.close().catch(() => undefined);
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(downloads, { recursive: true, force: true });
  }
  await writeFile(join(OUT, `report-${BACKENDS.join('-')}.json`), `${JSON.stringify({ date: new Date().toISOString(), epochs: EPOCHS, results }, null, 2)}\n`);
}

await main();
