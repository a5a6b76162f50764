import type { CellResult } from '../records';
import { escapeXml } from './format';
import { meanRows } from './summary';

/** Colours for method variants (Okabe–Ito, then Tableau), cycled. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#4E79A7', '#F28E2B', '#59A14F', '#B07AA1'];

/** Marker shapes: the palette repeats after 12 methods, each round with the next shape. */
const SHAPES = ['circle', 'square', 'diamond', 'triangle'] as const;
type Shape = (typeof SHAPES)[number];

/** A marker of `shape` centred at (x, y), radius ~5, with `attributes` and optional content (a title). */
function marker(shape: Shape, x: number, y: number, attributes: string, content = ''): string {
  const [cx, cy] = [x.toFixed(1), y.toFixed(1)];
  if (shape === 'circle') return `<circle cx="${cx}" cy="${cy}" r="5" ${attributes}>${content}</circle>`;
  if (shape === 'square') return `<rect x="${(x - 4.5).toFixed(1)}" y="${(y - 4.5).toFixed(1)}" width="9" height="9" ${attributes}>${content}</rect>`;
  const points = shape === 'diamond' ? [[x, y - 6], [x + 6, y], [x, y + 6], [x - 6, y]] : [[x, y - 6], [x + 5.5, y + 4], [x - 5.5, y + 4]];
  return `<polygon points="${points.map(([px, py]) => `${px!.toFixed(1)},${py!.toFixed(1)}`).join(' ')}" ${attributes}>${content}</polygon>`;
}

const PANEL_W = 340;
const PANEL_H = 250;
const MARGIN = { left: 52, right: 14, top: 28, bottom: 40 };
const COLUMNS = 3;

interface Point {
  method: string;
  x: number;
  y: number;
  detail: string;
}

interface Panel {
  title: string;
  task: string;
  points: Point[];
}

function niceStep(range: number): number {
  const raw = range / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
}

function panelSvg(panel: Panel, x0: number, y0: number, colour: (method: string) => string, shape: (method: string) => Shape, xDomain: [number, number]): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const ys = panel.points.map((p) => p.y);
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi - lo < 2) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.12;
  lo = Math.max(0, lo - pad);
  hi = Math.min(100, hi + pad);
  const step = niceStep(hi - lo);
  const [xLo, xHi] = xDomain;
  const sx = (v: number) => MARGIN.left + ((Math.log10(v) - xLo) / (xHi - xLo)) * w;
  const sy = (v: number) => MARGIN.top + h - ((v - lo) / (hi - lo)) * h;
  const parts: string[] = [`<g class="panel" data-task="${escapeXml(panel.task)}" transform="translate(${x0},${y0})">`];
  parts.push(`<text class="panel-title" x="${MARGIN.left + w / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(panel.title)}</text>`);
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" dy="4" text-anchor="end" font-size="10">${Number(t.toFixed(2))}</text>`);
  }
  for (let e = Math.ceil(xLo); e <= Math.floor(xHi); e++) {
    const x = sx(10 ** e).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + h}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + h + 14}" text-anchor="middle" font-size="10">10<tspan dy="-4" font-size="8">${e}</tspan></text>`);
  }
  parts.push(`<text x="${MARGIN.left + w / 2}" y="${PANEL_H - 6}" text-anchor="middle" font-size="10">trainable parameters incl. head (log)</text>`);
  parts.push(`<text transform="translate(12,${MARGIN.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="10">test top-1 %</text>`);
  for (const p of panel.points) {
    parts.push(
      marker(shape(p.method), sx(p.x), sy(p.y), `class="mark" data-method="${escapeXml(p.method)}" fill="${colour(p.method)}" fill-opacity="0.85" stroke="#fff"`, `<title>${escapeXml(`${p.method}: ${p.detail}`)}</title>`),
    );
  }
  parts.push('</g>');
  return parts.join('\n');
}

/**
 * Accuracy vs trainable parameters (log x), one panel per task and one for the mean over tasks (per
 * backbone when the grid has several), one mark per method variant, and a legend. Plain SVG, no
 * dependencies; marks carry `class="mark"` and `data-method` for tools and tests.
 */
export function svgPlot(cells: readonly CellResult[]): string {
  const methods = [...new Set(cells.map((c) => c.method))];
  const colour = (m: string) => PALETTE[methods.indexOf(m) % PALETTE.length]!;
  const shape = (m: string) => SHAPES[Math.floor(methods.indexOf(m) / PALETTE.length) % SHAPES.length]!;
  const backbones = [...new Set(cells.map((c) => c.backbone))];
  const panels: Panel[] = [];
  for (const backbone of backbones) {
    const own = cells.filter((c) => c.backbone === backbone);
    const prefix = backbones.length > 1 ? `${backbone}: ` : '';
    for (const task of [...new Set(own.map((c) => c.task))]) {
      panels.push({
        title: `${prefix}${task}`,
        task,
        points: own.filter((c) => c.task === task).map((c) => ({ method: c.method, x: c.params.trainableWithHead, y: 100 * c.testTop1, detail: `${(100 * c.testTop1).toFixed(2)}% with ${c.params.trainableWithHead.toLocaleString('en-US')} trainable params` })),
      });
    }
    panels.push({
      title: `${prefix}mean over tasks`,
      task: 'mean',
      points: meanRows(own).map((m) => ({ method: m.method, x: m.trainableWithHead, y: 100 * m.values.tasks!, detail: `mean ${(100 * m.values.tasks!).toFixed(2)}%` })),
    });
  }
  const xs = cells.map((c) => Math.log10(Math.max(1, c.params.trainableWithHead)));
  const xDomain: [number, number] = [Math.floor(Math.min(...xs) - 0.15), Math.ceil(Math.max(...xs) + 0.15)];
  const columns = Math.min(COLUMNS, panels.length);
  const rows = Math.ceil(panels.length / columns);
  const legendRows = Math.ceil(methods.length / 3);
  const width = columns * PANEL_W;
  const height = rows * PANEL_H + 16 + legendRows * 18;
  const body = panels.map((p, i) => panelSvg(p, (i % columns) * PANEL_W, Math.floor(i / columns) * PANEL_H, colour, shape, xDomain));
  const legendWidth = width / 3;
  const legend = methods.map((m, i) => {
    const x = (i % 3) * legendWidth + 16;
    const y = rows * PANEL_H + 16 + Math.floor(i / 3) * 18;
    return `<g class="legend-item" data-method="${escapeXml(m)}">${marker(shape(m), x, y - 4, `fill="${colour(m)}"`)}<text x="${x + 10}" y="${y}" font-size="11">${escapeXml(m)}</text></g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="vpeft-bench-plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
