import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, applyPeft, loadPeftModel, mulberry32, type PeftModel } from '@vpeft/core';
import { lora } from '@vpeft/method-lora';
import { loadPretrainedViTMnist, mnistToImages } from '@vpeft/pretrained';
import { describe, expect, it } from 'vitest';
import { vpeft } from '../../../packages/cli/test/spawn-cli';
import { BUNDLED_DIGITS } from '../src/bundled-task';
import { bundledTestDigits, chanceBound, maxAbsDiff, openApp, pageLogits, trainBundled, uploadAdapter, waitForFiles } from './harness';
import { browserSession } from './session-hooks';

const session = browserSession('vpeft-web-app-');

/** Node's logits for `pixels` (28x28 grey in [0, 1]) from `model`. */
async function nodeLogits(model: PeftModel, pixels: number[][]): Promise<number[][]> {
  const x = mnistToImages(pixels);
  const out = model.predict(x);
  const rows = (await out.array()) as number[][];
  tf.dispose([x, out]);
  return rows;
}

describe('the web app in headless Chromium (wasm backend)', () => {
  const { pixels } = bundledTestDigits();
  let browserLogits: number[][];

  it('fine-tunes LoRA on the bundled digits above chance, exports the adapter and loads it back (from files and from IndexedDB)', async () => {
    const runtime = await openApp(session.page, session.url, 'wasm');
    expect(runtime).toMatch(/^wasm/);
    const { accuracy, imagesPerSecond } = await trainBundled(session.page, { method: 'lora', epochs: 6 });
    const k = BUNDLED_DIGITS.digits.length;
    expect(accuracy).toBeGreaterThan(chanceBound(k, k * BUNDLED_DIGITS.test));
    expect(imagesPerSecond).toBeGreaterThan(0);
    expect(await session.page.$$eval('#confusion tr', (rows) => rows.length)).toBe(k + 1);

    browserLogits = await pageLogits(session.page, pixels);
    await session.page.click('#export');
    await waitForFiles(session.downloads, [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]);

    await uploadAdapter(session.page, [join(session.downloads, ADAPTER_CONFIG_FILE), join(session.downloads, ADAPTER_WEIGHTS_FILE)]);
    expect(Number(await session.page.$eval('#eval-summary', (e) => (e as HTMLElement).dataset.accuracy))).toBe(accuracy);
    expect(maxAbsDiff(await pageLogits(session.page, pixels), browserLogits)).toBe(0);

    // Kept in IndexedDB and loaded from there.
    await session.page.$eval('#adapter-name', (e) => ((e as HTMLInputElement).value = 'e2e'));
    await session.page.click('#save-browser');
    await session.page.waitForFunction(() => document.querySelector('#adapter-status')?.textContent === 'kept in this browser as "e2e"');
    await session.page.click('#load-browser');
    await session.page.waitForFunction(() => document.querySelector('#adapter-status')?.textContent?.startsWith('loaded:'));
    expect(maxAbsDiff(await pageLogits(session.page, pixels), browserLogits)).toBe(0);
    expect(session.errors).toEqual([]);
  });

  it('the adapter exported in the browser loads in Node (core loadPeftModel) with the same logits (1e-4), and vpeft eval --adapter scores it', async () => {
    const model = await loadPeftModel(await loadPretrainedViTMnist(), session.downloads);
    expect(model.classNames).toEqual(BUNDLED_DIGITS.digits.map(String));
    expect(maxAbsDiff(await nodeLogits(model, pixels), browserLogits)).toBeLessThan(1e-4);
    model.dispose({ backbone: true });

    // And the CLI evaluates it, on the bundled MNIST's validation split of the same digits.
    const run = await vpeft(['eval', '--backbone', 'vit_tiny_patch7_28_mnist04', '--adapter', session.downloads, '--data', 'mnist:classes=5|6|7|8|9', '--split', 'val', '--backend', 'wasm', '--json']);
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
    const dir = join(session.downloads, 'from-node');
    await model.saveAdapter(dir);
    const expected = await nodeLogits(model, pixels);
    model.dispose({ backbone: true });
    expect(await uploadAdapter(session.page, [join(dir, ADAPTER_CONFIG_FILE), join(dir, ADAPTER_WEIGHTS_FILE)])).toContain('3 classes (a, b, c)');
    expect(maxAbsDiff(await pageLogits(session.page, pixels), expected)).toBeLessThan(1e-4);
    expect(session.errors).toEqual([]);
  });
});
