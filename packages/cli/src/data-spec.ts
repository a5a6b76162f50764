import { basename } from 'node:path';
import { customVtabTask, emoji, fgvc, findVtabTask, imageFolder, mnist, vtab1k, vtab1kCustom, vtab1kStyleSplit, type CustomVtabTask, type ImageDataset, type LoadOptions } from '@vpeft/datasets';
import { UsageError } from './errors';

/** Train / validation / test splits of one task. */
export interface TaskData {
  name: string;
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  numClasses: number;
  classNames: readonly string[];
  /** One line for the user about how the data was read (e.g. a custom VTAB-layout task), if any. */
  note?: string;
}

/**
 * Parses `--data` and loads the task's splits:
 * - `mnist`, `emoji` — bundled offline sets, VTAB-1k-style train800 / val200 / test;
 *   `mnist:classes=5|6|7|8|9` keeps those classes (renumbered in order) and re-splits them;
 * - `vtab1k:<root>:<task>` — train800 / val200 / test of a VTAB-1k task on disk; a name outside the
 *   19 is a task of your own in that layout (class count from `classes.txt` or the labels);
 * - `fgvc:<root>:<name>` — train / val / test of an FGVC dataset (VPT splits);
 * - `folder:<train dir>:<val dir>[:<test dir>]` — one class per sub-folder.
 *
 * `flag` is how errors name the spec (default `--data <spec>`).
 * With `skipCorrupt`, split-file entries that are malformed, out of range or name a missing file are
 * left out (listed in each split's `skipped`) instead of failing.
 */
export async function loadTaskData(spec: string, seed = 42, options: Pick<LoadOptions, 'skipCorrupt'> & { flag?: string } = {}): Promise<TaskData> {
  // Messages name the flag as the user gave it: `--data mnist:...` or `--task digits=mnist:...`.
  const where = options.flag ?? `--data ${spec}`;
  const [kind, ...rest] = spec.split(':');
  switch (kind) {
    case 'mnist':
    case 'emoji': {
      const options = Object.fromEntries(rest.join(':').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      for (const [key, value] of Object.entries(options)) {
        if (key !== 'classes') throw new UsageError(`${where}: unknown option "${key}" (allowed: classes=a|b|c)`);
        if (value === undefined) throw new UsageError(`${where}: "${key}" needs a value (classes=a|b|c)`);
      }
      const load = kind === 'mnist' ? mnist : emoji;
      const [trainVal, test] = await Promise.all([load('train800val200', { seed }), load('test', { seed })]);
      if (options.classes === undefined) {
        const [train, val] = await Promise.all([load('train800', { seed }), load('val200', { seed })]);
        return { name: kind, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
      }
      const keep = options.classes.split('|').map((c) => (c.trim() === '' ? Number.NaN : Number(c)));
      const allowed = `at least two distinct class ids in 0..${trainVal.numClasses - 1}, separated by |, e.g. classes=5|6|7`;
      if (keep.some((c) => !Number.isInteger(c) || c < 0 || c >= trainVal.numClasses)) throw new UsageError(`${where}: classes must be ${allowed}`);
      const repeated = keep.find((c, i) => keep.indexOf(c) !== i);
      if (repeated !== undefined) throw new UsageError(`${where}: class ${repeated} is given twice; classes must be ${allowed}`);
      if (keep.length < 2) throw new UsageError(`${where}: one class is not a classification task; classes must be ${allowed}`);
      const pool = [...trainVal.samples, ...test.samples].filter((s) => keep.includes(s.label)).map((s) => ({ ...s, label: keep.indexOf(s.label) }));
      const splits = vtab1kStyleSplit(pool.map((s) => s.label), keep.length, seed);
      const classNames = keep.map((c) => trainVal.classNames[c]!);
      const make = (split: 'train800' | 'val200' | 'test'): ImageDataset => ({
        ...trainVal,
        name: `${kind}[${keep.join(',')}]`,
        split,
        numClasses: keep.length,
        classNames,
        samples: Array.from(splits[split], (i) => pool[i]!),
      });
      return { name: `${kind}[${keep.join(',')}]`, train: make('train800'), val: make('val200'), test: make('test'), numClasses: keep.length, classNames };
    }
    case 'vtab1k': {
      const [root, task] = rest;
      if (!root || !task) throw new UsageError(`${where}: expected vtab1k:<root>:<task>`);
      const custom = findVtabTask(task) ? undefined : await customVtabTask(root, task, options);
      // One split after the other, so an error names the first damaged split (train800 before test).
      const load = (split: string) => (custom ? vtab1kCustom(custom, split, options) : vtab1k(root, task, split, options));
      const train = await load('train800');
      const val = await load('val200');
      const test = await load('test');
      return { name: train.name, train, val, test, numClasses: train.numClasses, classNames: train.classNames, note: custom && customTaskNote(custom) };
    }
    case 'fgvc': {
      const [root, name] = rest;
      if (!root || !name) throw new UsageError(`${where}: expected fgvc:<root>:<name>`);
      const train = await fgvc(root, name, 'train', options);
      const val = await fgvc(root, name, 'val', options);
      const test = await fgvc(root, name, 'test', options);
      return { name: `fgvc/${name}`, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
    }
    case 'folder': {
      const [trainDir, valDir, testDir] = rest;
      if (!trainDir || !valDir) throw new UsageError(`${where}: expected folder:<train dir>:<val dir>[:<test dir>]`);
      const train = await imageFolder(trainDir, { split: 'train' });
      const val = await imageFolder(valDir, { split: 'val', expectedClasses: train.numClasses });
      const test = testDir ? await imageFolder(testDir, { split: 'test', expectedClasses: train.numClasses }) : val;
      return { name: `folder:${trainDir}`, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
    }
    default:
      throw new UsageError(`${where}: unknown dataset kind "${kind}"; expected mnist, emoji, vtab1k:<root>:<task>, fgvc:<root>:<name> or folder:<train>:<val>[:<test>]`);
  }
}

/** The line that says a `vtab1k:` task is not one of the 19 and where its class count came from. */
function customTaskNote(task: CustomVtabTask): string {
  const from = task.classesFrom === 'classes.txt' ? 'classes.txt' : `the largest class id in ${task.sources.map((f) => basename(f)).join(', ')}, plus one`;
  return `note: ${task.name} is not one of the 19 VTAB-1k tasks; read as your own task in the VTAB-1k layout (${task.dir}) with ${task.numClasses} classes, counted from ${from}`;
}
