import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backbone, PeftModel } from '@vpeft/core';
import type { ProgressEvent } from '@vpeft/train';
import type { Cell } from './grid';
import { formatHyperPoint, hyperPoints, type HyperPoint } from './hyper';
import { meanStd, ppt } from './metrics';
import type { CellResult, ParamCounts, RunRecord } from './records';
import type { FeatureCacheOptions } from '@vpeft/train';
import { trainRun, type RunOutcome } from './run';
import { directoryBytes } from './directory-bytes';
import type { BenchSpec } from './spec';
import { trainWithVal, type TaskData } from './tasks';

/** Progress inside a cell: which run, and the trainer's step event. */
export interface CellStep {
  /** e.g. `select 2/4 lr=0.001 wd=0.0001 ep=5`, `final seed 43`. */
  run: string;
  event: ProgressEvent;
}

/** What {@link runCell} needs. */
export interface CellContext {
  spec: BenchSpec;
  cell: Cell;
  backbone: Backbone;
  task: TaskData;
  /** Runs of this cell finished by an earlier, interrupted process: reused, not retrained. */
  finished: readonly RunRecord[];
  /** Persists a finished run (before the next starts). */
  saveRun(record: RunRecord): Promise<void>;
  /** Where the reported adapter of the first seed is saved (val200 protocol). */
  adapterDir?: string;
  /** The feature cache (default on where it applies; false: off). */
  cache?: FeatureCacheOptions | false;
  onStep?(step: CellStep): void;
  /** A run's feature-cache line. */
  onNote?(line: string): void;
}

/** Saves the adapter (to `dir`, or a temporary folder removed afterwards) and returns its size in bytes. */
async function adapterBytes(model: PeftModel, dir: string | undefined): Promise<number> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'vpeft-bench-adapter-')));
  try {
    await model.saveAdapter(target);
    return await directoryBytes(target);
  } finally {
    if (!dir) await rm(target, { recursive: true, force: true });
  }
}

function paramCounts(model: PeftModel): ParamCounts {
  const s = model.summary();
  return { trainable: s.trainableExcludingHead, trainableWithHead: s.trainableTotal, backbone: s.backboneParams };
}

function samePoint(a: HyperPoint, b: HyperPoint): boolean {
  return a.lr === b.lr && a.weightDecay === b.weightDecay && a.epochs === b.epochs;
}

function runRecord(cell: Cell, phase: RunRecord['phase'], point: HyperPoint, seed: number, outcome: RunOutcome, extra: Partial<RunRecord>): RunRecord {
  return {
    kind: 'run',
    cell: cell.id,
    phase,
    point,
    seed,
    ...extra,
    params: paramCounts(outcome.model),
    imagesPerSecond: outcome.fit.imagesPerSecond,
    peakMemoryBytes: outcome.fit.peakMemoryBytes,
    wallSeconds: outcome.wallSeconds,
    steps: outcome.fit.steps,
  };
}

/**
 * Runs one cell under the spec's protocol and returns its result.
 *
 * `val200`: every hyper-parameter point trains on train800 with the first seed and is scored on val200
 * after its last epoch; the best point (earliest on ties) retrains on train800val200 once per seed and
 * is scored on test after its last epoch. Test is never looked at before the choice is made.
 *
 * `benchmark-code`: every point trains on train800val200 with the first seed, scoring test after every
 * epoch; the point with the best test score over epochs wins, and the other seeds repeat it. This is
 * the published code's behaviour (selection on test), reported as such.
 */
export async function runCell(ctx: CellContext): Promise<CellResult> {
  const { spec, cell, backbone, task } = ctx;
  const hyper = cell.method.hyper;
  const points = hyperPoints(hyper);
  const [firstSeed, ...otherSeeds] = spec.seeds as [number, ...number[]];
  const trainVal = trainWithVal(task);
  const fair = spec.protocol === 'val200';
  const records: RunRecord[] = [];

  const run = async (phase: RunRecord['phase'], point: HyperPoint, seed: number, label: string, score: (o: RunOutcome) => Promise<Partial<RunRecord>>) => {
    const done = ctx.finished.find((r) => r.phase === phase && r.seed === seed && samePoint(r.point, point));
    if (done) {
      records.push(done);
      return done;
    }
    const outcome = await trainRun({
      backbone,
      method: cell.method,
      task,
      train: phase === 'select' && fair ? task.train : trainVal,
      point,
      hyper,
      seed,
      ...(fair ? (phase === 'select' ? { eval: { data: task.val, when: 'last' as const } } : { scored: [task.test] }) : { eval: { data: task.test, when: 'every' as const } }),
      ...(ctx.cache !== undefined ? { cache: ctx.cache } : {}),
      ...(ctx.onNote ? { onNote: (line: string) => ctx.onNote!(`${cell.id} · ${label}: ${line}`) } : {}),
      onProgress: (event) => ctx.onStep?.({ run: label, event }),
    });
    try {
      const record = runRecord(cell, phase, point, seed, outcome, await score(outcome));
      await ctx.saveRun(record);
      records.push(record);
      return record;
    } finally {
      outcome.release();
    }
  };

  const selection: RunRecord[] = [];
  for (const [k, point] of points.entries()) {
    const label = `select ${k + 1}/${points.length} ${formatHyperPoint(point)}`;
    selection.push(
      await run('select', point, firstSeed, label, async (o) =>
        fair ? { valTop1: o.fit.evaluations.at(-1)!.top1 } : { testTop1: o.fit.best!.top1, ...(k === 0 ? { adapterBytes: await adapterBytes(o.model, undefined) } : {}) },
      ),
    );
  }
  const scoreOf = (r: RunRecord) => (fair ? r.valTop1! : r.testTop1!);
  const winner = selection.reduce((best, r) => (scoreOf(r) > scoreOf(best) ? r : best), selection[0]!);
  const chosen = winner.point;

  const reported: RunRecord[] = fair ? [] : [winner];
  for (const seed of fair ? spec.seeds : otherSeeds) {
    const first = seed === firstSeed;
    reported.push(
      await run('final', chosen, seed, `final seed ${seed} ${formatHyperPoint(chosen)}`, async (o) =>
        fair
          ? { testTop1: await o.score(task.test), ...(first ? { adapterBytes: await adapterBytes(o.model, ctx.adapterDir) } : {}) }
          : { testTop1: o.fit.best!.top1 },
      ),
    );
  }

  const tests = reported.map((r) => r.testTop1!);
  const { mean, std } = meanStd(tests);
  const params = winner.params;
  return {
    kind: 'cell',
    index: cell.index,
    id: cell.id,
    backbone: cell.backbone.name,
    task: cell.task.name,
    taskGroup: cell.task.group ?? null,
    method: cell.method.label,
    family: cell.method.family,
    protocol: spec.protocol,
    chosen,
    valTop1: fair ? winner.valTop1! : null,
    testTop1: mean,
    testStd: std,
    seeds: reported.map((r) => r.seed),
    testBySeed: tests,
    params,
    percentOfBackbone: (100 * params.trainable) / params.backbone,
    ppt: ppt(mean, params.trainable),
    imagesPerSecond: reported.reduce((a, r) => a + r.imagesPerSecond, 0) / reported.length,
    peakMemoryBytes: Math.max(...records.map((r) => r.peakMemoryBytes)),
    wallSeconds: records.reduce((a, r) => a + r.wallSeconds, 0),
    adapterBytes: (fair ? reported[0]! : selection[0]!).adapterBytes!,
  };
}

/** Optimizer steps a cell plans (for the grid ETA): selection runs plus one final run per seed at the longest epochs. */
export function plannedSteps(spec: BenchSpec, cell: Cell, sizes: { train: number; val: number }): number {
  const hyper = cell.method.hyper;
  const per = (n: number) => Math.ceil(n / hyper.batchSize);
  const points = hyperPoints(hyper);
  const longest = Math.max(...hyper.epochs);
  const trainVal = per(sizes.train + sizes.val);
  if (spec.protocol === 'val200') return points.reduce((a, p) => a + p.epochs * per(sizes.train), 0) + spec.seeds.length * longest * trainVal;
  return points.reduce((a, p) => a + p.epochs * trainVal, 0) + (spec.seeds.length - 1) * longest * trainVal;
}
