import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '@vpeft/core';
import { BUNDLED_DIGITS } from '../src/bundled-task';

/** The app's folder. */
export const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Debian's chromium (`.ci/run` installs it when missing); `CHROMIUM_PATH` overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Builds the app (`vite build`) and serves it (`vite preview`, with its COOP/COEP headers) on a free port. */
export async function buildAndServe(): Promise<{ server: PreviewServer; url: string }> {
  await build({ root: APP, logLevel: 'warn' });
  const server = await preview({ root: APP, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1' } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return { server, url };
}

/**
 * Launches headless Chromium. Throws (never skips) when it cannot start: the browser tests are
 * the only check that vpeft trains in a browser. `gpu` asks for WebGPU/WebGL on SwiftShader (software).
 */
export async function launchChromium(options: { gpu?: boolean; protocolTimeout?: number } = {}): Promise<Browser> {
  const args = ['--headless=new', '--no-sandbox'];
  if (options.gpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-vulkan=swiftshader', '--enable-unsafe-swiftshader');
  try {
    return await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args, ...(options.protocolTimeout ? { protocolTimeout: options.protocolTimeout } : {}) });
  } catch (error) {
    throw new Error(`cannot launch Chromium at ${CHROMIUM} (install Debian's chromium package or set CHROMIUM_PATH): ${(error as Error).message}`);
  }
}

/** A served app, a browser and a page on it, with the page's console errors and a folder its downloads go to. */
export interface BrowserSession {
  server: PreviewServer;
  url: string;
  browser: Browser;
  page: Page;
  errors: string[];
  downloads: string;
}

/** Builds and serves the app, launches Chromium and opens a page whose downloads go to a new temporary folder (`prefix`...). */
export async function startSession(prefix: string): Promise<BrowserSession> {
  const { server, url } = await buildAndServe();
  const browser = await launchChromium();
  const page = await browser.newPage();
  const errors = collectErrors(page);
  const downloads = await mkdtemp(join(tmpdir(), prefix));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  return { server, url, browser, page, errors, downloads };
}

/** Closes what {@link startSession} opened (any part of it) and removes the downloads folder. */
export async function endSession(session: Partial<BrowserSession> | undefined): Promise<void> {
  await session?.browser?.close();
  await session?.server?.close();
  if (session?.downloads) await rm(session.downloads, { recursive: true, force: true });
}

/** Collects the page's console errors and uncaught exceptions. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()} (${message.location().url ?? 'no url'})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${(error as Error).message}`));
  return errors;
}

/**
 * Opens the app on `backend` (with any other query `params`, e.g. `{ threads: '2' }`) and waits until
 * the backend is up; returns what it says it runs on.
 */
export async function openApp(page: Page, url: string, backend: string, params: Record<string, string> = {}): Promise<string> {
  await page.goto(`${url}?${new URLSearchParams({ backend, ...params })}`, { waitUntil: 'load' });
  await page.waitForFunction(() => (globalThis as { vpeft?: unknown }).vpeft !== undefined);
  await page.evaluate(() => (globalThis as unknown as { vpeft: { backend: Promise<unknown> } }).vpeft.backend);
  return page.$eval('#backend-info', (e) => e.textContent ?? '');
}

/** Trains on the bundled digits (see {@link trainOnPage}); returns the held-out accuracy the page reports. */
export async function trainBundled(page: Page, settings: TrainSettings): Promise<{ accuracy: number; imagesPerSecond: number }> {
  await page.click('#load-digits');
  return trainOnPage(page, settings);
}

/** The training form's settings (unset ones keep the page's defaults). */
export interface TrainSettings {
  method?: string;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  timeoutMs?: number;
}

/** Sets the training form and trains on the page's task; returns the held-out accuracy and the training img/s the page reports. */
export async function trainOnPage(page: Page, settings: TrainSettings): Promise<{ accuracy: number; imagesPerSecond: number }> {
  if (settings.method) await page.select('#method', settings.method);
  const set = async (selector: string, value: number | undefined) => {
    if (value === undefined) return;
    await page.$eval(selector, (e, v) => ((e as HTMLInputElement).value = String(v)), value);
  };
  await set('#epochs', settings.epochs);
  await set('#batch-size', settings.batchSize);
  await set('#learning-rate', settings.learningRate);
  await page.$eval('#eval-summary', (e) => delete (e as HTMLElement).dataset.accuracy);
  await page.click('#train');
  await page.waitForFunction(
    () => document.querySelector<HTMLElement>('#eval-summary')?.dataset.accuracy !== undefined || document.querySelector('#train-status.error') !== null,
    { timeout: settings.timeoutMs ?? 0 },
  );
  const failure = await page.$eval('#train-status', (e) => (e.classList.contains('error') ? e.textContent : null));
  if (failure) throw new Error(`training failed in the page: ${failure}`);
  const accuracy = Number(await page.$eval('#eval-summary', (e) => (e as HTMLElement).dataset.accuracy));
  const imagesPerSecond = Number(await page.$eval('#stat-speed', (e) => e.textContent));
  return { accuracy, imagesPerSecond };
}

/** Chance accuracy 1/k plus its one-sided 99.9% binomial quantile over n images (normal approximation). */
export const chanceBound = (k: number, n: number) => 1 / k + 3.09 * Math.sqrt(((1 / k) * (1 - 1 / k)) / n);

/** The largest absolute difference between two equally shaped matrices. */
export const maxAbsDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));

/** Waits until the files `names` are in `dir` and none is empty (a browser download). */
export async function waitForFiles(dir: string, names: string[]): Promise<void> {
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

/** Loads the adapter files in `paths` through the page's file input and waits until the page has rebuilt the model. */
export async function uploadAdapter(page: Page, paths: string[]): Promise<string> {
  await page.$eval('#adapter-status', (e) => (e.textContent = ''));
  const input = (await page.$('#adapter-files')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(...paths);
  await page.waitForFunction(() => /^loaded:/.test(document.querySelector('#adapter-status')?.textContent ?? '') || document.querySelector('#adapter-status.error') !== null);
  const status = await page.$eval('#adapter-status', (e) => e.textContent ?? '');
  if (!status.startsWith('loaded:')) throw new Error(`loading the adapter failed in the page: ${status}`);
  return status;
}

/** Downloads the page's adapter into `dir` (Chrome's download behaviour) and waits for both files; returns their paths. */
export async function exportAdapter(page: Page, dir: string): Promise<string[]> {
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
  await page.click('#export');
  await waitForFiles(dir, [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]);
  return [join(dir, ADAPTER_CONFIG_FILE), join(dir, ADAPTER_WEIGHTS_FILE)];
}

/** The bundled task's held-out digits as the page has them (8-bit grey / 255), read from the `mnist` package. */
export function bundledTestDigits(): { pixels: number[][]; labels: number[] } {
  const mnist = createRequire(import.meta.url)('mnist') as Record<number, { get(i: number): number[] }>;
  const pixels: number[][] = [];
  const labels: number[] = [];
  BUNDLED_DIGITS.digits.forEach((digit, label) => {
    for (let i = BUNDLED_DIGITS.train; i < BUNDLED_DIGITS.train + BUNDLED_DIGITS.test; i++) {
      pixels.push(mnist[digit]!.get(i).map((v) => Math.round(v * 255) / 255));
      labels.push(label);
    }
  });
  return { pixels, labels };
}

/** The current model's logits in the page for `pixels`. */
export function pageLogits(page: Page, pixels: number[][]): Promise<number[][]> {
  return page.evaluate((p) => (globalThis as unknown as { vpeft: { logits(p: number[][]): Promise<number[][]> } }).vpeft.logits(p), pixels);
}
