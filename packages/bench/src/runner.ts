import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backbone } from '@vpeft/core';
import { plannedSteps, runCell, type CellStep } from './cell';
import { gridCells, shardCells, type Cell, type Shard } from './grid';
import type { CellResult, HeaderRecord } from './records';
import { writeReports } from './report/write';
import { appendRecord, openResults, readResults, resultsFileName } from './results-file';
import { specHash, type BackboneSpec, type BenchSpec } from './spec';
import { limitTask, type TaskData } from './tasks';
import type { FeatureCacheOptions } from '@vpeft/train';

/** How the runner gets backbones and data; the CLI passes its own resolvers (and registries). */
export interface BenchLoaders {
  /** Throws (with a clear message) for a backbone that cannot be made; called for every backbone before training. */
  checkBackbone?(spec: BackboneSpec): void | Promise<void>;
  /** Makes a backbone (one at a time: the runner disposes it when the next backbone starts). */
  loadBackbone(spec: BackboneSpec): Promise<Backbone>;
  /** Loads a task's splits from its data spec (as `vpeft train --data` does). */
  loadTask(data: string, seed: number): Promise<TaskData>;
}

/** A progress report: which cell of how many, its run and step, and the estimated time left for the grid. */
export interface BenchProgress extends CellStep {
  /** 1-based position of the cell among this run's cells (shard), and their count. */
  cell: number;
  cells: number;
  id: string;
  /** Seconds left for this run's cells, from the planned steps and the measured seconds per step. */
  gridEtaSeconds: number;
}

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  spec: BenchSpec;
  outDir: string;
  shard?: Shard;
  loaders: BenchLoaders;
  onProgress?(progress: BenchProgress): void;
  /** A finished cell (also those skipped as already done, with `skipped: true`). */
  onCell?(result: CellResult, skipped: boolean): void;
  /** Human notes (loading, skipping, what the feature cache did). */
  onNote?(text: string): void;
  /**
   * The feature cache (`@vpeft/train`): on by default where a model's frozen part and the pipeline
   * allow it, shared by the cells on the same backbone and task; false turns it off. Results are the
   * same either way (it changes wall time and the img/s of training steps, not the numbers).
   */
  cache?: FeatureCacheOptions | false;
}

/** What {@link runBench} did. */
export interface RunBenchResult {
  /** The results file (`results.jsonl` or this shard's file). */
  resultsFile: string;
  /** This run's cells, in grid order, including those found finished. */
  cells: CellResult[];
  /** Cells found finished and skipped. */
  skipped: number;
  /** Report files (unsharded runs only; shards are merged with {@link mergeShards}). */
  reports: string[];
}

function adapterFolder(cell: Cell): string {
  return `${String(cell.index).padStart(4, '0')}-${cell.id.replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, 120);
}

/**
 * Runs a grid (or one shard of it): every cell under the spec's protocol, one JSON line per finished
 * run and per finished cell appended to the results file, so a run killed at any point and started
 * again with the same spec skips the finished cells (and the finished runs of the interrupted cell).
 * Every task of the run is loaded and every backbone checked before the first step trains.
 */
export async function runBench(options: RunBenchOptions): Promise<RunBenchResult> {
  const { spec, outDir, shard, loaders } = options;
  const all = gridCells(spec);
  const cells = shardCells(all, shard);
  const hash = specHash(spec);
  const header: HeaderRecord = { kind: 'header', format: 'vpeft-bench-results', version: 1, specHash: hash, spec, cells: all.length, shard: shard && shard.count > 1 ? shard : null };
  const resultsFile = join(outDir, resultsFileName(header.shard));
  // Read first, write after the checks: bad input (another spec's results, an unknown backbone, a task
  // that does not load) leaves no results file behind.
  const previous = await readResults(resultsFile);
  if (previous && previous.header.specHash !== hash) await openResults(resultsFile, header);
  const done = new Set(previous?.cells.map((c) => c.id));
  const toRun = cells.filter((c) => !done.has(c.id));
  for (const backbone of new Map(toRun.map((c) => [c.backbone.name, c.backbone])).values()) await loaders.checkBackbone?.(backbone);
  const tasks = new Map<string, TaskData>();
  for (const cell of toRun) {
    if (tasks.has(cell.task.name)) continue;
    options.onNote?.(`loading task ${cell.task.name}`);
    tasks.set(cell.task.name, limitTask(await loaders.loadTask(cell.task.data, spec.dataSeed), cell.task.limit, spec.dataSeed));
  }

  await mkdir(outDir, { recursive: true });
  const existing = await openResults(resultsFile, header);
  const finished = new Map(existing.cells.map((c) => [c.id, c]));
  const pending = cells.filter((c) => !finished.has(c.id));
  if (finished.size) options.onNote?.(`${resultsFile}: ${finished.size} of ${cells.length} cells already finished; skipping them`);
  for (const c of cells) if (finished.has(c.id)) options.onCell?.(finished.get(c.id)!, true);

  const planned = new Map(pending.map((c) => [c.id, plannedSteps(spec, c, { train: tasks.get(c.task.name)!.train.samples.length, val: tasks.get(c.task.name)!.val.samples.length })]));
  let plannedLeft = [...planned.values()].reduce((a, b) => a + b, 0);
  let stepsDone = 0;
  let stepSeconds = 0;
  const started = performance.now();

  const results = new Map(finished);
  let backbone: { name: string; model: Backbone } | undefined;
  try {
    for (const cell of pending) {
      if (backbone?.name !== cell.backbone.name) {
        backbone?.model.dispose();
        backbone = undefined;
        options.onNote?.(`loading backbone ${cell.backbone.name}`);
        backbone = { name: cell.backbone.name, model: await loaders.loadBackbone(cell.backbone) };
      }
      let cellSteps = 0;
      let lastStep = 0;
      const position = cells.indexOf(cell) + 1;
      const result = await runCell({
        spec,
        cell,
        backbone: backbone.model,
        task: tasks.get(cell.task.name)!,
        finished: existing.runs.filter((r) => r.cell === cell.id),
        saveRun: (record) => appendRecord(resultsFile, record),
        adapterDir: join(outDir, 'adapters', adapterFolder(cell)),
        ...(options.cache !== undefined ? { cache: options.cache } : {}),
        ...(options.onNote ? { onNote: (line: string) => options.onNote!(line) } : {}),
        onStep: (step) => {
          if (step.event.step < lastStep) lastStep = 0;
          cellSteps += step.event.step - lastStep;
          stepsDone += step.event.step - lastStep;
          lastStep = step.event.step;
          stepSeconds = (performance.now() - started) / 1000;
          const perStep = stepSeconds / Math.max(1, stepsDone);
          options.onProgress?.({ ...step, cell: position, cells: cells.length, id: cell.id, gridEtaSeconds: Math.max(0, plannedLeft - cellSteps) * perStep });
        },
      });
      plannedLeft -= planned.get(cell.id)!;
      await appendRecord(resultsFile, result);
      results.set(cell.id, result);
      // Unsharded runs keep the reports current: they cover the cells finished so far.
      if (!header.shard) await writeReports(outDir, header, cells.filter((c) => results.has(c.id)).map((c) => results.get(c.id)!));
      options.onCell?.(result, false);
    }
  } finally {
    backbone?.model.dispose();
  }
  const ordered = cells.map((c) => results.get(c.id)!);
  const reports = header.shard ? [] : await writeReports(outDir, header, ordered);
  return { resultsFile, cells: ordered, skipped: finished.size, reports };
}
