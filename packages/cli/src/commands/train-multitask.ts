import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBackend, type MethodInstance } from '@vpeft/core';
import { resolveBackbone } from '../backbones';
import { loadTaskData, type TaskData } from '../data-spec';
import { discoverPlugins } from '../plugins';
import { UsageError } from '../errors';
import { parseMethodSpecs } from '../method-spec';
import { parseMultiTaskSpec, readBaselines } from '../multitask-spec';
import type { Output } from '../output';
import { multiTaskTable, runMultiTask } from '../run-multitask';
import { reportTable, runTraining, type Recipe, type TrainingReport } from '../run-training';
import { startBackend } from '../start-backend';

/**
 * `vpeft train --task NAME=DATA ...`: one multi-task model (shared `--method`s, `--task-method`s,
 * a head per task) trained on mixed batches, a per-task results table and, with `--baselines`, Δm
 * against single-task results (read from a file, or trained here first with `--baselines train`).
 */
export async function multiTaskTrain(values: Record<string, unknown>, recipe: Recipe, out: Output): Promise<void> {
  for (const key of ['workers', 'micro-batch', 'skip-corrupt'] as const) {
    if (values[key] !== undefined && values[key] !== false) throw new UsageError(`--${key} is not supported with --task (multi-task training)`);
  }
  const spec = parseMultiTaskSpec(values);
  const names = spec.tasks.map((t) => t.name);
  // Files and data first: bad input is reported before the backend and the model are loaded.
  const fileBaselines = spec.baselines !== undefined && spec.baselines !== 'train' ? await readBaselines(spec.baselines, names) : undefined;
  const data = new Map<string, TaskData>();
  for (const t of spec.tasks) {
    const task = await loadTaskData(t.data, recipe.seed, { flag: `--task ${t.name}=${t.data}` });
    if (task.note) out.note(task.note);
    data.set(t.name, task);
  }
  const backend = await startBackend(values.backend as string | undefined);
  await discoverPlugins();
  const sharedSpecs = ((values.method as string[] | undefined) ?? []).map(String);
  const parse = (specs: readonly string[]): MethodInstance<object>[] => parseMethodSpecs(specs);
  parse(sharedSpecs);
  for (const [name, specs] of spec.taskMethods) parseMethodSpecs(specs, (m) => `--task-method ${name}=${m}`);
  const backboneSpec = { backbone: String(values.backbone), weights: values.weights as string | undefined, config: values['model-config'] as string | undefined };
  const load = () => resolveBackbone(backboneSpec);
  const first = await load();
  if (!first.pretrained) out.note(`note: ${first.description} — PEFT on random weights measures nothing useful; pass a pre-trained backbone`);
  out.note(`backend ${describeBackend(backend)}; backbone ${first.description}; tasks ${spec.tasks.map((t) => `${t.name}=${data.get(t.name)!.name} (${data.get(t.name)!.train.samples.length} train, ${data.get(t.name)!.numClasses} classes)`).join(', ')}`);
  const outDir = values.out as string | undefined;
  let baselines = fileBaselines;
  const singleRuns: TrainingReport[] = [];
  if (spec.baselines === 'train') {
    // Each single-task model on a fresh backbone: shared methods + the task's own, same recipe.
    baselines = {};
    for (const t of spec.tasks) {
      const own = spec.taskMethods.get(t.name)!;
      const label = `single ${t.name}: ${[...sharedSpecs, ...own].map((m) => m.split(':')[0]).join('+') || 'linear'}`;
      const { backbone } = await load();
      const { report, model } = await runTraining(label, backbone, parse([...sharedSpecs, ...own]), data.get(t.name)!, recipe, out);
      model.dispose({ backbone: true });
      singleRuns.push(report);
      baselines[t.name] = report.testTop1;
    }
    if (outDir) {
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, 'baselines.json'), `${JSON.stringify(baselines, null, 2)}\n`);
    }
  }
  const label = `multi-task ${[sharedSpecs.map((m) => m.split(':')[0]).join('+') || 'heads', ...names.flatMap((n) => spec.taskMethods.get(n)!.map((m) => `${n}:${m.split(':')[0]}`))].join(' + ')}`;
  const taskMethods = new Map(names.map((n) => [n, parse(spec.taskMethods.get(n)!)]));
  const { report, dispose } = await runMultiTask(label, first.backbone, parse(sharedSpecs), taskMethods, data, spec, recipe, out, {
    outDir,
    resume: Boolean(values.resume),
    ...(baselines ? { baselines } : {}),
  });
  const source = spec.baselines === 'train' ? 'trained here with the same recipe' : spec.baselines;
  out.result(
    {
      backend: describeBackend(backend),
      backbone: first.description,
      recipe,
      sampling: spec.sampling,
      ...(spec.sampling === 'temperature' ? { temperature: spec.temperature } : {}),
      lossWeights: spec.lossWeights,
      tasks: report.tasks,
      deltaM: report.deltaM ?? null,
      baselines: baselines ?? null,
      singleTaskRuns: singleRuns.map((r) => ({ label: r.label, trainableParams: r.trainableParams, valTop1: r.valTop1, testTop1: r.testTop1, wallSeconds: r.wallSeconds, imagesPerSecond: r.fit.imagesPerSecond })),
      summary: { ...report.summary, owners: undefined },
      steps: report.fit.steps,
      imagesPerSecond: report.fit.imagesPerSecond,
      wallSeconds: report.wallSeconds,
      adapterDir: report.adapterDir ?? null,
    },
    () => [singleRuns.length ? `${reportTable(singleRuns, report.summary.backboneParams)}\n` : '', multiTaskTable(report, source)].filter(Boolean).join('\n'),
  );
  dispose();
}
