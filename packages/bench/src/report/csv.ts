import type { CellResult } from '../records';
import { CELL_COLUMNS, CSV_EXTRA } from './columns';

function field(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV row per cell with raw numbers (accuracies in [0, 1], bytes, seconds). */
export function csvReport(cells: readonly CellResult[]): string {
  const columns = [...CELL_COLUMNS, ...CSV_EXTRA];
  return [columns.map((c) => c.csv).join(','), ...cells.map((cell) => columns.map((c) => field(c.value(cell))).join(','))].join('\n') + '\n';
}
