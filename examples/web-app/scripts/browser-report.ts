/**
 * Screenshots of each screen and img/s per backend, in headless Chromium (Debian's chromium):
 * `pnpm --filter @vpeft-example/web-app report` (builds the app, serves it with `vite preview`).
 * For each backend (wasm, webgl, webgpu; the GPU ones on SwiftShader when there is no GPU) it trains
 * LoRA on the bundled digits and times inference on the held-out images (where training does not
 * finish in REPORT_TRAIN_TIMEOUT_S, on the adapter the first backend trained, loaded from its files), then writes
 * `screenshots/*.png` (from the wasm run) and `screenshots/report-<backends>.json`, and prints a
 * Markdown table (backend x LoRA training img/s, inference img/s; medians over the rounds) with the
 * load average. `REPORT_BACKENDS=wasm:threads=1,wasm:threads=2,webgl` chooses the runs (a backend, with
 * the page's query parameters after `:`), `REPORT_ROUNDS` repeats them interleaved (default 1),
 * `REPORT_EPOCHS` sets the epochs (default 3), `REPORT_BATCH` the batch size (default: the page's 16),
 * `REPORT_INFERENCE_ONLY=webgpu` times only inference there.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { APP, buildAndServe, bundledTestDigits, collectErrors, exportAdapter, launchChromium, openApp, trainBundled, uploadAdapter } from '../test/harness';

const SCREENS = ['screen-data', 'screen-method', 'screen-train', 'screen-eval', 'screen-adapter', 'screen-classify'];
const OUT = join(APP, 'screenshots');
const EPOCHS = Number(process.env.REPORT_EPOCHS ?? 3);
const BACKENDS = (process.env.REPORT_BACKENDS ?? 'wasm,webgl,webgpu').split(',');
const ROUNDS = Number(process.env.REPORT_ROUNDS ?? 1);
const BATCH = process.env.REPORT_BATCH ? Number(process.env.REPORT_BATCH) : undefined;
/** Backends to time inference on only (on the first backend's adapter), e.g. where training does not finish. */
const INFERENCE_ONLY = (process.env.REPORT_INFERENCE_ONLY ?? '').split(',').filter(Boolean);
const INFERENCE_REPEATS = 5;
/** How long a backend may take to train before it counts as not training here. */
const TRAIN_TIMEOUT_MS = Number(process.env.REPORT_TRAIN_TIMEOUT_S ?? 300) * 1000;

interface BackendResult {
  /** The run as REPORT_BACKENDS names it (`wasm:threads=2`). */
  backend: string;
  runtime?: string;
  trainImagesPerSecond?: number;
  inferenceImagesPerSecond?: number;
  accuracy?: number;
  /** Why training did not finish (inference was then timed on the adapter an earlier backend trained). */
  trainError?: string;
  /** Where training stopped: the page's step counter and its img/s over the steps done (none when it did not start). */
  partialTrain?: { steps: string; imagesPerSecond: number };
  error?: string;
  consoleErrors?: string[];
}

/** A REPORT_BACKENDS entry (`wasm:threads=2&x=y`) as the backend and the page's other query parameters. */
function parseRun(run: string): { backend: string; params: Record<string, string> } {
  const [backend = '', query = ''] = run.split(':');
  return { backend, params: Object.fromEntries(new URLSearchParams(query)) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The Markdown table of `results`: per run, the median (and range) of training and inference img/s. */
function table(results: BackendResult[]): string {
  const cell = (values: number[]) =>
    values.length === 0 ? '–' : values.length === 1 ? values[0]!.toFixed(1) : `${median(values).toFixed(1)} (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
  const rows = BACKENDS.map((run) => {
    const mine = results.filter((r) => r.backend === run);
    const train = mine.flatMap((r) => (r.trainImagesPerSecond === undefined ? [] : [r.trainImagesPerSecond]));
    const partial = mine.flatMap((r) => (r.partialTrain ? [`${r.partialTrain.imagesPerSecond.toFixed(1)} over steps ${r.partialTrain.steps} (unfinished)`] : []));
    const infer = mine.flatMap((r) => (r.inferenceImagesPerSecond === undefined ? [] : [r.inferenceImagesPerSecond]));
    const device = mine.find((r) => r.runtime)?.runtime ?? mine.find((r) => r.error)?.error ?? '';
    return `| ${run} | ${device} | ${train.length || !partial.length ? cell(train) : partial.join('; ')} | ${cell(infer)} |`;
  });
  return ['| run | runtime (as the page says) | LoRA training img/s | inference img/s |', '|---|---|---|---|', ...rows].join('\n');
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
  const downloads = await mkdtemp(join(tmpdir(), 'vpeft-report-'));
  const { server, url } = await buildAndServe();
  const browser = await launchChromium({ gpu: true, protocolTimeout: TRAIN_TIMEOUT_MS + 60_000 });
  const { pixels } = bundledTestDigits();
  const results: BackendResult[] = [];
  let adapter: string[] | undefined;
  let screenshots = false;
  const loadBefore = loadavg();
  try {
    for (const run of Array.from({ length: ROUNDS }, () => BACKENDS).flat()) {
      const { backend, params } = parseRun(run);
      let page = await browser.newPage();
      await page.setViewport({ width: 900, height: 900 });
      let errors = collectErrors(page);
      const result: BackendResult = { backend: run };
      try {
        result.runtime = await openApp(page, url, backend, params);
        try {
          if (INFERENCE_ONLY.includes(backend)) throw new Error('training skipped (REPORT_INFERENCE_ONLY)');
          const trained = await trainBundled(page, { method: 'lora', epochs: EPOCHS, batchSize: BATCH, timeoutMs: TRAIN_TIMEOUT_MS });
          result.trainImagesPerSecond = trained.imagesPerSecond;
          result.accuracy = trained.accuracy;
          adapter ??= await exportAdapter(page, downloads);
        } catch (error) {
          // Training did not finish here: time inference on the adapter another backend trained, in a fresh page.
          result.trainError = (error as Error).message.slice(0, 300);
          const steps = await page.$eval('#stat-step', (e) => e.textContent ?? '').catch(() => '');
          const speed = Number(await page.$eval('#stat-speed', (e) => e.textContent).catch(() => 'NaN'));
          if (/^\d+\//.test(steps) && speed > 0) result.partialTrain = { steps, imagesPerSecond: speed };
          if (!adapter) throw error;
          result.consoleErrors = errors;
          void page.close().catch(() => undefined);
          page = await browser.newPage();
          errors = collectErrors(page);
          await openApp(page, url, backend, params);
          await page.click('#load-digits');
          await uploadAdapter(page, adapter);
          result.accuracy = Number(await page.$eval('#eval-summary', (e) => (e as HTMLElement).dataset.accuracy));
        }
        result.inferenceImagesPerSecond = await inferenceSpeed(page, pixels);
        if (backend === 'wasm' && !screenshots) {
          screenshots = true;
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
  const load = { before: loadBefore, after: loadavg() };
  const name = BACKENDS.join('-').replace(/[^\w-]+/g, '_');
  await writeFile(join(OUT, `report-${name}.json`), `${JSON.stringify({ date: new Date().toISOString(), epochs: EPOCHS, batchSize: BATCH, rounds: ROUNDS, load, results }, null, 2)}\n`);
  const fmt = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(`\n${table(results)}\n\nload average (1/5/15 min) before: ${fmt(load.before)}, after: ${fmt(load.after)}`);
}

await main();
