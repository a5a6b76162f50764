import { emoji, fgvc, imageFolder, mnist, vtab1k, vtab1kStyleSplit, type ImageDataset } from '@vpeft/datasets';
import { UsageError } from './errors';

/** Train / validation / test splits of one task. */
export interface TaskData {
  name: string;
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
  numClasses: number;
  classNames: readonly string[];
}

/**
 * Parses `--data` and loads the task's splits:
 * - `mnist`, `emoji` — bundled offline sets, VTAB-1k-style train800 / val200 / test;
 *   `mnist:classes=5|6|7|8|9` keeps those classes (renumbered in order) and re-splits them;
 * - `vtab1k:<root>:<task>` — train800 / val200 / test of a VTAB-1k task on disk;
 * - `fgvc:<root>:<name>` — train / val / test of an FGVC dataset (VPT splits);
 * - `folder:<train dir>:<val dir>[:<test dir>]` — one class per sub-folder.
 */
export async function loadTaskData(spec: string, seed = 42): Promise<TaskData> {
  const [kind, ...rest] = spec.split(':');
  switch (kind) {
    case 'mnist':
    case 'emoji': {
      const options = Object.fromEntries(rest.join(':').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      for (const key of Object.keys(options)) if (key !== 'classes') throw new UsageError(`--data ${spec}: unknown option "${key}" (allowed: classes=a|b|c)`);
      const load = kind === 'mnist' ? mnist : emoji;
      const [trainVal, test] = await Promise.all([load('train800val200', { seed }), load('test', { seed })]);
      if (!options.classes) {
        const [train, val] = await Promise.all([load('train800', { seed }), load('val200', { seed })]);
        return { name: kind, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
      }
      const keep = options.classes.split('|').map(Number);
      if (keep.some((c) => !Number.isInteger(c) || c < 0 || c >= trainVal.numClasses)) {
        throw new UsageError(`--data ${spec}: classes must be ids in 0..${trainVal.numClasses - 1}`);
      }
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
      if (!root || !task) throw new UsageError(`--data ${spec}: expected vtab1k:<root>:<task>`);
      // One split after the other, so an error names the first damaged split (train800 before test).
      const train = await vtab1k(root, task, 'train800');
      const val = await vtab1k(root, task, 'val200');
      const test = await vtab1k(root, task, 'test');
      return { name: `vtab1k/${task}`, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
    }
    case 'fgvc': {
      const [root, name] = rest;
      if (!root || !name) throw new UsageError(`--data ${spec}: expected fgvc:<root>:<name>`);
      const train = await fgvc(root, name, 'train');
      const val = await fgvc(root, name, 'val');
      const test = await fgvc(root, name, 'test');
      return { name: `fgvc/${name}`, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
    }
    case 'folder': {
      const [trainDir, valDir, testDir] = rest;
      if (!trainDir || !valDir) throw new UsageError(`--data ${spec}: expected folder:<train dir>:<val dir>[:<test dir>]`);
      const train = await imageFolder(trainDir, { split: 'train' });
      const val = await imageFolder(valDir, { split: 'val', expectedClasses: train.numClasses });
      const test = testDir ? await imageFolder(testDir, { split: 'test', expectedClasses: train.numClasses }) : val;
      return { name: `folder:${trainDir}`, train, val, test, numClasses: train.numClasses, classNames: train.classNames };
    }
    default:
      throw new UsageError(`--data ${spec}: unknown dataset kind "${kind}"; expected mnist, emoji, vtab1k:<root>:<task>, fgvc:<root>:<name> or folder:<train>:<val>[:<test>]`);
  }
}
