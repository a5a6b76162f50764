import { PROTOCOLS, type Protocol } from '../spec';
import type { CellResult } from '../records';
import { CELL_COLUMNS } from './columns';
import { percent } from './format';
import { meanKinds, meanRows } from './summary';

const PPT_NOTE = 'PPT = M · exp(−log10(P / 10^7 + 1)), M = mean test top-1 in [0, 1], P = trainable parameters excluding the classification head.';

/** The markdown report: protocol sentence, the per-cell table, the means table and the PPT definition. */
export function markdownReport(cells: readonly CellResult[], protocol: Protocol): string {
  const row = (values: readonly string[]) => `| ${values.map((v) => v.replace(/\|/g, '\\|')).join(' | ')} |`;
  const table = [row(CELL_COLUMNS.map((c) => c.header)), row(CELL_COLUMNS.map(() => '---')), ...cells.map((cell) => row(CELL_COLUMNS.map((c) => c.text(cell))))];
  const kinds = meanKinds(cells);
  const means = meanRows(cells);
  const meansTable = [
    row(['backbone', 'method', ...kinds.map((k) => `${k.label}, test top-1 %`)]),
    row(['---', '---', ...kinds.map(() => '---')]),
    ...means.map((m) => row([m.backbone, m.method, ...kinds.map((k) => percent(m.values[k.key]))])),
  ];
  return [`# vpeft bench results`, '', PROTOCOLS[protocol], '', ...table, '', '## Means over tasks', '', ...meansTable, '', PPT_NOTE, ''].join('\n');
}

export { PPT_NOTE };
