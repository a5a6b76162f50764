import { mean } from '../metrics';
import type { CellResult } from '../records';

/** A kind of mean over tasks, with its column label. */
export interface MeanKind {
  key: 'tasks' | 'vtab-tasks' | 'vtab-groups' | 'fgvc';
  label: string;
}

/** Means of one (backbone, method variant) over the grid's tasks. */
export interface MeanRow {
  backbone: string;
  method: string;
  family: string;
  /** Mean test top-1 per mean kind present in the grid, in [0, 1]. */
  values: Partial<Record<MeanKind['key'], number>>;
  /** Mean trainable parameters without the head over the tasks (heads differ per task; the rest does not). */
  trainable: number;
  /** Mean trainable parameters with the head over the tasks (the plot's x). */
  trainableWithHead: number;
}

const GROUPS = ['natural', 'specialized', 'structured'] as const;

/** The mean kinds that apply to these cells, labelled as the report prints them. */
export function meanKinds(cells: readonly CellResult[]): MeanKind[] {
  const tasks = new Set(cells.map((c) => c.task));
  const vtab = new Set(cells.filter((c) => c.taskGroup && c.taskGroup !== 'fgvc').map((c) => c.task));
  const fgvc = new Set(cells.filter((c) => c.taskGroup === 'fgvc').map((c) => c.task));
  const kinds: MeanKind[] = [{ key: 'tasks', label: `mean of ${tasks.size} task${tasks.size === 1 ? '' : 's'}` }];
  if (vtab.size) {
    const perGroup = GROUPS.map((g) => `${g[0]!.toUpperCase()}${g.slice(1)} ${new Set(cells.filter((c) => c.taskGroup === g).map((c) => c.task)).size}`);
    kinds.push({ key: 'vtab-tasks', label: `VTAB-1k: mean of ${vtab.size} tasks` });
    kinds.push({ key: 'vtab-groups', label: `VTAB-1k: mean of group means (${perGroup.join(', ')})` });
  }
  if (fgvc.size) kinds.push({ key: 'fgvc', label: `FGVC: mean of ${fgvc.size} datasets` });
  return kinds;
}

/** Means per (backbone, method variant), in first-seen order: plain over tasks, VTAB both ways, FGVC. */
export function meanRows(cells: readonly CellResult[]): MeanRow[] {
  const keys = [...new Set(cells.map((c) => `${c.backbone}\u0000${c.method}`))];
  return keys.map((key) => {
    const own = cells.filter((c) => `${c.backbone}\u0000${c.method}` === key);
    const first = own[0]!;
    const top1 = (list: readonly CellResult[]) => mean(list.map((c) => c.testTop1));
    const values: MeanRow['values'] = { tasks: top1(own) };
    const vtab = own.filter((c) => c.taskGroup && c.taskGroup !== 'fgvc');
    if (vtab.length) {
      values['vtab-tasks'] = top1(vtab);
      values['vtab-groups'] = mean(GROUPS.map((g) => vtab.filter((c) => c.taskGroup === g)).filter((l) => l.length).map(top1));
    }
    const fgvc = own.filter((c) => c.taskGroup === 'fgvc');
    if (fgvc.length) values.fgvc = top1(fgvc);
    return {
      backbone: first.backbone,
      method: first.method,
      family: first.family,
      values,
      trainable: mean(own.map((c) => c.params.trainable)),
      trainableWithHead: mean(own.map((c) => c.params.trainableWithHead)),
    };
  });
}
