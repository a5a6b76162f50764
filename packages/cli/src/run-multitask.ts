import { join } from 'node:path';
import type { Backbone, MethodInstance } from '@vpeft/core';
import { backboneTransform, batches } from '@vpeft/datasets';
import { createMultiTaskModel, datasetTaskSource, deltaM, fitMultiTask, formatMultiTaskSummary, type MultiTaskFitResult, type MultiTaskSummary } from '@vpeft/multitask';
import { evaluate } from '@vpeft/train';
import type { TaskData } from './data-spec';
import type { MultiTaskSpec } from './multitask-spec';
import type { Output } from './output';
import { formatProgress } from './progress-line';
import { noteFreshResume } from './resume-note';
import { recipeFitOptions, type Recipe } from './run-training';

/** One task's results in a multi-task run. */
export interface TaskReport {
  task: string;
  data: string;
  numClasses: number;
  trainImages: number;
  /** Probability that a batch slot draws this task. */
  probability: number;
  lossWeight: number;
  valTop1: number;
  testTop1: number;
  testCount: number;
  /** Single-task test top-1, when baselines were given or trained. */
  singleTop1?: number;
  /** `(testTop1 − singleTop1) / singleTop1` in %. */
  relativeChange?: number;
}

/** What `vpeft train --task ...` produced. */
export interface MultiTaskReport {
  label: string;
  tasks: TaskReport[];
  /** Δm in %, when single-task results are known. */
  deltaM?: number;
  summary: MultiTaskSummary;
  fit: MultiTaskFitResult;
  wallSeconds: number;
  adapterDir?: string;
}

/**
 * Trains one multi-task model over `backbone` on the tasks' mixed batches (shared `methods`, each
 * task's own methods and head), keeps the best epoch by mean validation top-1, scores each task's
 * test split on its own head, saves the multi-task adapter under `outDir`, and compares each task with
 * its single-task result (`baselines`) as Δm.
 */
export async function runMultiTask(
  label: string,
  backbone: Backbone,
  methods: MethodInstance<object>[],
  taskMethods: Map<string, MethodInstance<object>[]>,
  data: Map<string, TaskData>,
  spec: MultiTaskSpec,
  recipe: Recipe,
  out: Output,
  options: { outDir?: string; resume?: boolean; baselines?: Record<string, number> } = {},
): Promise<{ report: MultiTaskReport; dispose(): void }> {
  const names = spec.tasks.map((t) => t.name);
  const model = createMultiTaskModel(backbone, {
    shared: methods,
    tasks: spec.tasks.map((t) => ({ name: t.name, numClasses: data.get(t.name)!.numClasses, classNames: data.get(t.name)!.classNames, methods: taskMethods.get(t.name) ?? [], source: t.data })),
    seed: recipe.seed,
  });
  const started = performance.now();
  const eachTask = <T>(make: (task: TaskData) => T) => Object.fromEntries(names.map((n) => [n, make(data.get(n)!)]));
  const evalBatchSize = Math.max(recipe.batchSize, 64);
  await noteFreshResume(out, options.outDir, options.resume);
  const result = await fitMultiTask(
    model,
    {
      train: eachTask((t) => datasetTaskSource(t.train, backboneTransform(t.train, backbone, { train: true }))),
      val: eachTask((t) => () => batches(t.val, { batchSize: evalBatchSize, transform: backboneTransform(t.val, backbone, { train: false }) })),
    },
    {
      ...recipeFitOptions(recipe),
      sampling: spec.sampling,
      temperature: spec.temperature,
      lossWeights: spec.lossWeights,
      restoreBest: true,
      checkpointDir: options.outDir ? join(options.outDir, 'checkpoints') : undefined,
      resume: options.resume,
      onProgress: (event) => out.progress({ run: label, ...event }, () => formatProgress(label, event), { key: label, last: event.step === event.totalSteps }),
    },
  );
  const tasks: TaskReport[] = [];
  for (const t of spec.tasks) {
    const task = data.get(t.name)!;
    const test = await evaluate(model.task(t.name), batches(task.test, { batchSize: evalBatchSize, transform: backboneTransform(task.test, backbone, { train: false }) }));
    const single = options.baselines?.[t.name];
    tasks.push({
      task: t.name,
      data: task.name,
      numClasses: task.numClasses,
      trainImages: task.train.samples.length,
      probability: result.probabilities[t.name]!,
      lossWeight: spec.lossWeights[t.name] ?? 1,
      valTop1: result.bestPerTask?.[t.name]?.top1 ?? Number.NaN,
      testTop1: test.top1,
      testCount: test.count,
      ...(single !== undefined ? { singleTop1: single, relativeChange: deltaM({ [t.name]: test.top1 }, { [t.name]: single }) } : {}),
    });
  }
  let adapterDir: string | undefined;
  if (options.outDir) {
    adapterDir = join(options.outDir, 'adapter');
    await model.saveAdapter(adapterDir);
  }
  const report: MultiTaskReport = {
    label,
    tasks,
    ...(options.baselines ? { deltaM: deltaM(Object.fromEntries(tasks.map((t) => [t.task, t.testTop1])), options.baselines) } : {}),
    summary: model.summary(),
    fit: result,
    wallSeconds: (performance.now() - started) / 1000,
    ...(adapterDir ? { adapterDir } : {}),
  };
  return { report, dispose: () => model.dispose({ backbone: true }) };
}

const pct = (x: number | undefined, digits = 2) => (x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(digits));
const signed = (x: number | undefined) => (x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);

/** The per-task results table (markdown), Δm, the parameter counts and the run's time. */
export function multiTaskTable(report: MultiTaskReport, baselineSource?: string): string {
  const rows = report.tasks.map(
    (t) => `| ${t.task} | ${t.data} | ${t.numClasses} | ${t.probability.toFixed(3)} | ${t.lossWeight} | ${pct(t.valTop1)} | ${pct(t.testTop1)} | ${pct(t.singleTop1)} | ${signed(t.relativeChange)} |`,
  );
  return [
    `| task | data | classes | p(slot) | loss weight | val top-1 % | test top-1 % | single-task test top-1 % | Δ vs single % |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    report.deltaM !== undefined
      ? `Δm = ${signed(report.deltaM)} % (mean over ${report.tasks.length} tasks of (M_multi − M_single) / M_single; single-task results: ${baselineSource ?? 'given'})`
      : 'Δm: no single-task results (pass --baselines FILE, or --baselines train to train them here)',
    '',
    formatMultiTaskSummary(report.summary),
    '',
    `${report.label}: ${report.fit.steps} steps in ${report.wallSeconds.toFixed(0)} s, ${report.fit.imagesPerSecond.toFixed(1)} train img/s${report.adapterDir ? `; adapter saved to ${report.adapterDir}` : ''}`,
  ].join('\n');
}
