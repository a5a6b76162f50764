/**
 * The MobileNetV2 screens and speeds in headless Chromium (wasm):
 * `pnpm --filter @vpeft-example/web-app report:mobilenet` builds the app, serves it with `vite preview`,
 * picks the MobileNetV2 backbone, drops 2 emoji categories x 32 PNGs on two classes (24 train + 8
 * held out each), trains LoRA (default sites) for `REPORT_EPOCHS` (default 3) epochs, times inference
 * on the 16 held-out images (`vpeft.logits`: input tensor, forward pass and read-back; `REPORT_REPEATS`
 * runs, default 5, after a warm-up) and writes `screenshots/mobilenet-*.png` and
 * `screenshots/report-mobilenet.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { addEmojiTask, chooseBackbone, emojiTask } from '../test/emoji-task';
import { APP, buildAndServe, collectErrors, launchChromium, openApp, trainOnPage } from '../test/harness';

const OUT = join(APP, 'screenshots');
const EPOCHS = Number(process.env.REPORT_EPOCHS ?? 3);
const REPEATS = Number(process.env.REPORT_REPEATS ?? 5);
const SCREENS = ['screen-data', 'screen-method', 'screen-train', 'screen-eval'];

/** Images per second of `vpeft.logits` on the held-out images' inputs, per run, timed in the page after one warm-up call. */
function inferenceSpeeds(page: Page, repeats: number): Promise<number[]> {
  return page.evaluate(async (r) => {
    type Api = { heldOut(n: number): Promise<{ count: number; inputs: string }>; logits(inputs: ArrayLike<number>[]): Promise<number[][]> };
    const api = (globalThis as unknown as { vpeft: Api }).vpeft;
    const { count, inputs } = await api.heldOut(Number.MAX_SAFE_INTEGER);
    const flat = new Float32Array(Uint8Array.from(atob(inputs), (c) => c.charCodeAt(0)).buffer);
    const size = flat.length / count;
    const rows = Array.from({ length: count }, (_, i) => flat.subarray(i * size, (i + 1) * size));
    await api.logits(rows);
    const speeds: number[] = [];
    for (let i = 0; i < r; i++) {
      const started = performance.now();
      await api.logits(rows);
      speeds.push(count / ((performance.now() - started) / 1000));
    }
    return speeds;
  }, repeats);
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const { server, url } = await buildAndServe();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 900 });
    const errors = collectErrors(page);
    const runtime = await openApp(page, url, 'wasm');
    const methods = await chooseBackbone(page, 'mobilenet_v2');
    await addEmojiTask(page, await emojiTask(['Flags', 'Food & Drink'], 32));
    const started = Date.now();
    const trained = await trainOnPage(page, { method: 'lora', epochs: EPOCHS, batchSize: 16, learningRate: 3e-3 });
    const trainSeconds = (Date.now() - started) / 1000;
    const inference = await inferenceSpeeds(page, REPEATS);
    for (const [i, id] of SCREENS.entries()) await (await page.$(`#${id}`))!.screenshot({ path: join(OUT, `mobilenet-${i + 1}-${id.replace('screen-', '')}.png`) });
    const report = { date: new Date().toISOString(), runtime, methodsThatApply: methods.applies, epochs: EPOCHS, trainSeconds, ...trained, inferenceImagesPerSecond: inference, consoleErrors: errors };
    console.log(JSON.stringify(report));
    await writeFile(join(OUT, 'report-mobilenet.json'), `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
