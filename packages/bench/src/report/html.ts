import type { CellResult } from '../records';
import { PROTOCOLS, type Protocol } from '../spec';
import { CELL_COLUMNS } from './columns';
import { escapeXml, percent } from './format';
import { PPT_NOTE } from './markdown';
import { meanKinds, meanRows } from './summary';
import { svgPlot } from './svg';

function table(headers: readonly string[], rows: readonly (readonly string[])[], className: string, rowAttributes: (i: number) => string = () => ''): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r, i) => `<tr${rowAttributes(i)}>${r.map((v) => `<td>${escapeXml(v)}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${className}">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A self-contained HTML report (no scripts, no external files): protocol, results table, means, the inline SVG plot. */
export function htmlReport(cells: readonly CellResult[], protocol: Protocol, meta: { specHash: string; generated: string }): string {
  const kinds = meanKinds(cells);
  const means = meanRows(cells);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vpeft bench report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0 24px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
td { white-space: nowrap; }
th { background: #f3f3f3; }
td:nth-child(-n+3) { text-align: left; }
p.protocol { background: #fff8e1; border-left: 4px solid #e0a800; padding: 8px 12px; max-width: 70em; }
</style>
</head>
<body>
<h1>vpeft bench report</h1>
<p class="protocol">${escapeXml(PROTOCOLS[protocol])}</p>
<p>${cells.length} cells · spec ${escapeXml(meta.specHash)} · ${escapeXml(meta.generated)}</p>
<h2>Results</h2>
${table(
  CELL_COLUMNS.map((c) => c.header),
  cells.map((cell) => CELL_COLUMNS.map((c) => c.text(cell))),
  'results',
  (i) => ` data-cell="${escapeXml(cells[i]!.id)}"`,
)}
<h2>Means over tasks (test top-1 %)</h2>
${table(['backbone', 'method', ...kinds.map((k) => k.label)], means.map((m) => [m.backbone, m.method, ...kinds.map((k) => percent(m.values[k.key]))]), 'means')}
<p>${escapeXml(PPT_NOTE)}</p>
<h2>Accuracy vs trainable parameters</h2>
${svgPlot(cells)}
</body>
</html>
`;
}
