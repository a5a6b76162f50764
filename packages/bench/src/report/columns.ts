import { formatHyperPoint } from '../hyper';
import type { CellResult } from '../records';
import { count, meanPlusMinus, mebibytes, percent } from './format';

/** One column of the results table: header, formatted text (markdown/HTML) and raw value (CSV). */
export interface Column {
  header: string;
  csv: string;
  text(cell: CellResult): string;
  value(cell: CellResult): string | number | null;
}

/** The results table's columns, one definition for markdown, HTML and CSV. */
export const CELL_COLUMNS: readonly Column[] = [
  { header: 'backbone', csv: 'backbone', text: (c) => c.backbone, value: (c) => c.backbone },
  { header: 'task', csv: 'task', text: (c) => c.task, value: (c) => c.task },
  { header: 'method', csv: 'method', text: (c) => c.method, value: (c) => c.method },
  { header: 'trainable params (excl. head)', csv: 'trainable_params', text: (c) => count(c.params.trainable), value: (c) => c.params.trainable },
  { header: '% of backbone', csv: 'percent_of_backbone', text: (c) => c.percentOfBackbone.toFixed(3), value: (c) => c.percentOfBackbone },
  { header: 'chosen hyper-parameters', csv: 'chosen', text: (c) => formatHyperPoint(c.chosen), value: (c) => formatHyperPoint(c.chosen) },
  { header: 'val top-1 %', csv: 'val_top1', text: (c) => percent(c.valTop1), value: (c) => c.valTop1 },
  { header: 'test top-1 % (mean ± std)', csv: 'test_top1', text: (c) => meanPlusMinus(c.testTop1, c.testStd, c.seeds.length), value: (c) => c.testTop1 },
  { header: 'seeds', csv: 'seeds', text: (c) => String(c.seeds.length), value: (c) => c.seeds.join(' ') },
  { header: 'PPT', csv: 'ppt', text: (c) => c.ppt.toFixed(4), value: (c) => c.ppt },
  { header: 'train img/s', csv: 'train_images_per_second', text: (c) => c.imagesPerSecond.toFixed(1), value: (c) => c.imagesPerSecond },
  { header: 'peak MiB', csv: 'peak_memory_bytes', text: (c) => mebibytes(c.peakMemoryBytes), value: (c) => c.peakMemoryBytes },
  { header: 'wall s', csv: 'wall_seconds', text: (c) => c.wallSeconds.toFixed(1), value: (c) => c.wallSeconds },
  { header: 'adapter bytes', csv: 'adapter_bytes', text: (c) => count(c.adapterBytes), value: (c) => c.adapterBytes },
];

/** Extra CSV-only columns. */
export const CSV_EXTRA: readonly Column[] = [
  { header: '', csv: 'test_std', text: () => '', value: (c) => c.testStd },
  { header: '', csv: 'test_by_seed', text: () => '', value: (c) => c.testBySeed.join(' ') },
  { header: '', csv: 'trainable_params_with_head', text: () => '', value: (c) => c.params.trainableWithHead },
  { header: '', csv: 'backbone_params', text: () => '', value: (c) => c.params.backbone },
  { header: '', csv: 'task_group', text: () => '', value: (c) => c.taskGroup },
  { header: '', csv: 'protocol', text: () => '', value: (c) => c.protocol },
];
