import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadNsfwjsMobileNetV2 } from '@vpeft/backbone-layers';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, applyPeft, getMethod, listMethods, loadPeftModel } from '@vpeft/core';
import '@vpeft/method-adapter';
import '@vpeft/method-bitfit';
import '@vpeft/method-fact';
import '@vpeft/method-lora';
import '@vpeft/method-prefix';
import '@vpeft/method-repadapter';
import '@vpeft/method-side';
import '@vpeft/method-ssf';
import '@vpeft/method-vpt';
import { describe, expect, it } from 'vitest';
import { addEmojiTask, chooseBackbone, emojiTask } from './emoji-task';
import { chanceBound, maxAbsDiff, openApp, trainOnPage, uploadAdapter, waitForFiles } from './harness';
import { browserSession } from './session-hooks';

/** Two emoji categories, 32 images each: 24 train + 8 held out per class (the page holds out every fourth). */
const CLASSES = ['Flags', 'Food & Drink'];
const PER_CLASS = 32;
/** Held-out images whose logits are compared between the page and Node. */
const COMPARED = 4;

const session = browserSession('vpeft-web-app-mobilenet-');

interface HeldOut {
  backbone: string;
  count: number;
  inputs: string;
  logits: number[][];
}
const heldOut = (count: number) => session.page.evaluate((n) => (globalThis as unknown as { vpeft: { heldOut(n: number): Promise<HeldOut> } }).vpeft.heldOut(n), count);

describe('the web app with the MobileNetV2 backbone in headless Chromium (wasm backend)', () => {
  let browserOut: HeldOut;

  it('lists the registry methods that apply to the MobileNetV2, as applyPeft in Node decides', async () => {
    expect(await openApp(session.page, session.url, 'wasm')).toMatch(/^wasm/);
    const { applies, text, reasons } = await chooseBackbone(session.page, 'mobilenet_v2');
    const base = await loadNsfwjsMobileNetV2();
    const inNode = listMethods().filter((name) => {
      try {
        applyPeft(base, getMethod(name).configure(getMethod(name).defaults), { numClasses: 2 }).dispose();
        return true;
      } catch {
        return false;
      }
    });
    base.dispose();
    expect(applies).toEqual(inNode);
    expect(applies).toContain('lora');
    expect(applies).not.toContain('vpt'); // prompt tokens: a CNN has none (tested in the CLI too)
    expect(text).toMatch(/; not: .*\bvpt\b/);
    expect(reasons).toContainEqual(expect.stringMatching(/^vpt does not apply to mobilenet_v2: /));
  });

  it('fine-tunes LoRA on dropped emoji images above chance, exports the adapter and loads it back with the same logits', async () => {
    await addEmojiTask(session.page, await emojiTask(CLASSES, PER_CLASS));
    const started = performance.now();
    const { accuracy, imagesPerSecond } = await trainOnPage(session.page, { method: 'lora', epochs: 3, batchSize: 16, learningRate: 3e-3 });
    console.log(`MobileNetV2 LoRA, ${CLASSES.length} x ${PER_CLASS} emoji, 3 epochs: ${((performance.now() - started) / 1000).toFixed(1)} s in the page, ${imagesPerSecond} img/s, held-out accuracy ${accuracy}`);
    const heldOutCount = CLASSES.length * (PER_CLASS / 4);
    expect(accuracy).toBeGreaterThan(chanceBound(CLASSES.length, heldOutCount));

    browserOut = await heldOut(COMPARED);
    expect(browserOut).toMatchObject({ backbone: 'mobilenet_v2', count: COMPARED });
    await session.page.click('#export');
    await waitForFiles(session.downloads, [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]);
    expect(await uploadAdapter(session.page, [join(session.downloads, ADAPTER_CONFIG_FILE), join(session.downloads, ADAPTER_WEIGHTS_FILE)])).toContain(`2 classes (${CLASSES.join(', ')})`);
    expect(maxAbsDiff((await heldOut(COMPARED)).logits, browserOut.logits)).toBe(0);
    expect(session.errors).toEqual([]);
  });

  it('the adapter exported in the browser loads in Node with the same logits (1e-4), and Node writes it back byte for byte', async () => {
    const model = await loadPeftModel(await loadNsfwjsMobileNetV2(), session.downloads);
    expect(model.classNames).toEqual(CLASSES);
    const bytes = Buffer.from(browserOut.inputs, 'base64');
    const x = tf.tensor4d(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), [COMPARED, 224, 224, 3]);
    const out = model.predict(x);
    expect(maxAbsDiff((await out.array()) as number[][], browserOut.logits)).toBeLessThan(1e-4);
    tf.dispose([x, out]);
    const again = join(session.downloads, 'saved-in-node');
    await model.saveAdapter(again);
    model.dispose({ backbone: true });
    for (const file of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) {
      expect(Buffer.compare(await readFile(join(again, file)), await readFile(join(session.downloads, file))), file).toBe(0);
    }
  });
});
