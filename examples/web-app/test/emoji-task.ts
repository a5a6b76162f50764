import { emoji } from '@vpeft/datasets';
import type { ElementHandle, Page } from 'puppeteer-core';

/** A small 2-class task for the MobileNetV2 in the page: PNG emoji of two categories, dropped in as a user's files. */
export interface EmojiTask {
  classNames: string[];
  /** PNG paths per class. */
  files: string[][];
}

/** The first `perClass` images of each of `classNames` in the emoji set's `train800` split (`emoji-datasource-apple`, 64 px PNGs). */
export async function emojiTask(classNames: readonly string[], perClass: number): Promise<EmojiTask> {
  const train = await emoji('train800');
  const files = classNames.map((name) => {
    const label = train.classNames.indexOf(name);
    if (label < 0) throw new Error(`no emoji category "${name}"; categories: ${train.classNames.join(', ')}`);
    const paths = train.samples.filter((s) => s.label === label).map((s) => s.source as string);
    if (paths.length < perClass) throw new Error(`emoji category "${name}" has ${paths.length} training images, fewer than ${perClass}`);
    return paths.slice(0, perClass);
  });
  return { classNames: [...classNames], files };
}

/** Picks `name` in the page's backbone menu and waits until the page has checked which methods apply to it; returns them, the summary line and why the others do not apply. */
export async function chooseBackbone(page: Page, name: string): Promise<{ applies: string[]; text: string; reasons: string[] }> {
  await page.select('#backbone', name);
  await page.waitForFunction(
    (n) => document.querySelector('#method-fit')?.textContent?.includes(` apply to ${n}`) && !document.querySelector<HTMLButtonElement>('#train')?.disabled,
    {},
    name,
  );
  const failure = await page.$eval('#backbone-status', (e) => (e.classList.contains('error') ? e.textContent : null));
  if (failure) throw new Error(`switching to ${name} failed in the page: ${failure}`);
  const fit = await page.$eval('#method-fit', (e) => ({ applies: ((e as HTMLElement).dataset.applies ?? '').split(','), text: e.textContent ?? '' }));
  return { ...fit, reasons: await page.$$eval('#method-reasons-list li', (items) => items.map((li) => li.textContent ?? '')) };
}

/** Adds the task's classes in the page and drops its files on them (through each class's file input, as a user picks files). */
export async function addEmojiTask(page: Page, task: EmojiTask): Promise<void> {
  for (const [label, name] of task.classNames.entries()) {
    await page.$eval('#new-class-name', (e, v) => ((e as HTMLInputElement).value = v), name);
    await page.click('#add-class');
    const input = (await page.$(`.class-card[data-label="${label}"] input[type=file]`)) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(...task.files[label]!);
    const n = task.files[label]!.length;
    const expected = `${n - Math.floor(n / 4)} train · ${Math.floor(n / 4)} held out`;
    await page.waitForFunction((l, text) => document.querySelector(`.class-card[data-label="${l}"] .muted`)?.textContent === text, {}, label, expected);
  }
}
