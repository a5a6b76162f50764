import { sizeOf, summarize, type ModelSummary } from '@vpeft/core';
import type { MultiTaskModel } from './model';
import { headParameterName } from './model';

/** Parameter counts of one task. */
export interface TaskParameterCount {
  task: string;
  /** Trainable scalars of the task's own modules. */
  modules: number;
  /** Scalars of the task's head. */
  head: number;
  /** What a single-task model of this task trains: shared + the task's modules + its head. */
  singleTaskEquivalent: number;
}

/** Parameter counts of a multi-task model: shared modules counted once. */
export interface MultiTaskSummary {
  backboneParams: number;
  /** Trainable scalars of the shared methods (including backbone parameters a shared partial method unfroze). */
  shared: number;
  tasks: TaskParameterCount[];
  /** Everything trained: `shared + Σ_t (modules_t + head_t)`. */
  trainableTotal: number;
  /** {@link trainableTotal} without the heads. */
  trainableExcludingHeads: number;
  /** The per-owner table (every head under `head`), as core's `summarize` makes it. */
  owners: ModelSummary;
}

/** Counts a multi-task model's parameters: shared modules once, each task's modules and head. */
export function summarizeMultiTask(model: MultiTaskModel): MultiTaskSummary {
  const owners = summarize(model.parameters.list(), [...model.shared.map((m) => m.name), ...model.tasks.flatMap((t) => t.methods.map((m) => m.name))]);
  const trainableOf = (name: string) => owners.rows.find((r) => r.owner === name)?.trainable ?? 0;
  const shared = model.shared.reduce((n, m) => n + trainableOf(m.name), 0);
  const tasks = model.tasks.map((t): TaskParameterCount => {
    const modules = t.methods.reduce((n, m) => n + trainableOf(m.name), 0);
    const head = (['weight', 'bias'] as const).reduce((n, part) => n + sizeOf(model.parameters.get(headParameterName(t.name, part)).variable.shape), 0);
    return { task: t.name, modules, head, singleTaskEquivalent: shared + modules + head };
  });
  const heads = tasks.reduce((n, t) => n + t.head, 0);
  return { backboneParams: owners.backboneParams, shared, tasks, trainableTotal: owners.trainableTotal, trainableExcludingHeads: owners.trainableTotal - heads, owners };
}

/** The summary as a text table: one row for the shared modules, one per task, the totals. */
export function formatMultiTaskSummary(summary: MultiTaskSummary): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const pct = (n: number) => `${((100 * n) / summary.backboneParams).toFixed(3)}%`;
  const rows = [
    ['shared modules', fmt(summary.shared), '', '', pct(summary.shared)],
    ...summary.tasks.map((t) => [`task ${t.task}`, fmt(t.modules), fmt(t.head), fmt(t.singleTaskEquivalent), pct(t.modules + t.head)]),
    ['total', fmt(summary.trainableExcludingHeads), fmt(summary.trainableTotal - summary.trainableExcludingHeads), '', pct(summary.trainableTotal)],
  ];
  const header = ['part', 'modules', 'head', 'as single-task', '% of backbone'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    `backbone ${fmt(summary.backboneParams)} (frozen, shared); trainable in all: ${fmt(summary.trainableTotal)}`,
  ].join('\n');
}
