import type { Parameter } from '../params/parameter';
import { sizeOf } from '../params/parameter';

/** One row of a {@link ModelSummary}. */
export interface SummaryRow {
  /** `backbone`, `head`, or a method instance name. */
  owner: string;
  /** Scalars this owner added (a partial-based method adds none). */
  params: number;
  /** Trainable scalars attributed to this owner (a partial-based method: the backbone scalars it unfroze). */
  trainable: number;
  /** `trainable` as a percentage of the backbone's parameter count. */
  percentOfBackbone: number;
}

/** Parameter counts of a PeftModel per owner, as the survey reports them. */
export interface ModelSummary {
  rows: SummaryRow[];
  backboneParams: number;
  /** Trainable scalars excluding the head: the V-PEFT Bench's "params" column. */
  trainableExcludingHead: number;
  trainableTotal: number;
}

/** Counts parameters per owner; backbone parameters unfrozen by a partial-based method count under that method. */
export function summarize(parameters: readonly Parameter[], methodNames: readonly string[]): ModelSummary {
  const backboneParams = parameters.filter((p) => p.owner === 'backbone').reduce((n, p) => n + sizeOf(p.variable.shape), 0);
  const owners = ['backbone', ...methodNames, 'head'];
  const rows = owners.map((owner): SummaryRow => {
    const own = parameters.filter((p) => p.owner === owner);
    const params = own.reduce((n, p) => n + sizeOf(p.variable.shape), 0);
    const trainable = parameters
      .filter((p) => p.trainable && (owner === 'backbone' ? p.owner === 'backbone' && !p.selectedBy : p.owner === owner || p.selectedBy === owner))
      .reduce((n, p) => n + sizeOf(p.variable.shape), 0);
    return { owner, params, trainable, percentOfBackbone: backboneParams ? (100 * trainable) / backboneParams : 0 };
  });
  const trainableTotal = parameters.filter((p) => p.trainable).reduce((n, p) => n + sizeOf(p.variable.shape), 0);
  const head = rows.find((r) => r.owner === 'head')!.trainable;
  return { rows, backboneParams, trainableTotal, trainableExcludingHead: trainableTotal - head };
}

/** The summary as an aligned text table. */
export function formatSummary(summary: ModelSummary): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const header = ['owner', 'params', 'trainable', '% of backbone'];
  const body = summary.rows.map((r) => [r.owner, fmt(r.params), fmt(r.trainable), `${r.percentOfBackbone.toFixed(3)}%`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const pct = summary.backboneParams ? (100 * summary.trainableExcludingHead) / summary.backboneParams : 0;
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    `trainable excluding head: ${fmt(summary.trainableExcludingHead)} (${pct.toFixed(3)}% of backbone); with head: ${fmt(summary.trainableTotal)}`,
  ].join('\n');
}
