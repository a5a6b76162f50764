import { parseArgs } from 'node:util';
import { describeBackend } from '@vpeft/core';
import { startBackend } from '../start-backend';
import { BenchResultsError, BenchSpecError, mergeShards, parseBenchSpec, parseShard, runBench, type BenchProgress, type CellResult } from '@vpeft/bench';
import { checkBackbone, resolveBackbone } from '../backbones';
import { readConfigFile } from '../config-file';
import { loadTaskData } from '../data-spec';
import { discoverPlugins } from '../plugins';
import { registerInputError } from '../error-boundary';
import { UsageError } from '../errors';
import { checkOutputFolder } from '../output-path';
import type { Output } from '../output';
import { duration } from '../progress-line';

export const BENCH_HELP = `vpeft bench — run a V-PEFT Bench grid (hyper-parameters selected on val200, test reported)

  vpeft bench --spec FILE [--out DIR] [--shard i/N] [--protocol val200|benchmark-code] [--json]
  vpeft bench merge [--out DIR] [SHARD_FILE...]

  --spec FILE     YAML or JSON grid: backbones, methods (option grids, compositions), tasks, hyper, seeds
  --out DIR       results folder (default bench-results): results.jsonl, results.{md,csv,json,svg}, report.html
  --shard i/N     run only cells i, i+N, i+2N, ... (0 <= i < N) into results.shard-i-of-N.jsonl
  --protocol P    val200 (default; selection on val200, never on test) or benchmark-code (the published
                  code's best test over checkpoints; labelled as such)
  --no-cache      do not cache frozen-part outputs (by default cells on one backbone and task share them)
  --cache-dir DIR feature cache folder (default $VPEFT_CACHE_DIR or ~/.cache/vpeft/features)
  A killed run started again with the same spec and --out skips the finished cells.
  merge joins results.shard-*-of-N.jsonl of one spec into results.jsonl and writes the reports.
`;

const OPTIONS = {
  spec: { type: 'string' },
  out: { type: 'string' },
  shard: { type: 'string' },
  protocol: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

// A bad grid spec, and results that are damaged or do not fit together, are bad input: one line, exit 2.
registerInputError(BenchSpecError);
registerInputError(BenchResultsError);

function progressText(p: BenchProgress): string {
  const e = p.event;
  return `cell ${p.cell}/${p.cells} ${p.id} · ${p.run} · step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} ${e.imagesPerSecond.toFixed(1)} img/s · grid ETA ${duration(p.gridEtaSeconds)}`;
}

/** Progress lines, throttled by the output (the first and last step of each run always show). */
function benchProgress(out: Output): (p: BenchProgress) => void {
  return (p) =>
    out.progress(
      { cell: p.cell, cells: p.cells, id: p.id, run: p.run, step: p.event.step, totalSteps: p.event.totalSteps, loss: p.event.loss, gridEtaSeconds: p.gridEtaSeconds },
      () => progressText(p),
      { key: `${p.id}\u0000${p.run}`, last: p.event.step === p.event.totalSteps },
    );
}

function cellLine(c: CellResult): string {
  return `${c.id}: test ${(100 * c.testTop1).toFixed(2)}%${c.valTop1 !== null ? ` (val ${(100 * c.valTop1).toFixed(2)}%)` : ''}, ${c.params.trainable.toLocaleString('en-US')} params, PPT ${c.ppt.toFixed(4)}, ${c.wallSeconds.toFixed(0)} s`;
}

async function mergeCommand(args: string[], out: Output): Promise<void> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(BENCH_HELP);
    return;
  }
  const outDir = (parsed.values.out as string | undefined) ?? 'bench-results';
  const merged = await mergeShards(outDir, parsed.positionals);
  out.result({ resultsFile: merged.resultsFile, shards: merged.shards, cells: merged.cells.length, reports: merged.reports }, () => `merged ${merged.shards.length} shards (${merged.cells.length} cells) into ${merged.resultsFile}\nreports: ${merged.reports.join(', ')}`);
}

/** `vpeft bench` and `vpeft bench merge`. */
export async function benchCommand(args: string[], out: Output): Promise<void> {
  if (args[0] === 'merge') return mergeCommand(args.slice(1), out);
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: OPTIONS, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return;
  }
  if (!values.spec) throw new UsageError('vpeft bench needs --spec FILE, a YAML or JSON grid (vpeft bench --help describes it)');
  const outDir = (values.out as string | undefined) ?? 'bench-results';
  checkOutputFolder(outDir);
  if (values['cache-dir'] !== undefined && !values['no-cache']) checkOutputFolder(String(values['cache-dir']), '--cache-dir');
  const raw = await readConfigFile(String(values.spec), '--spec');
  await discoverPlugins();
  const spec = parseBenchSpec(raw, { protocol: values.protocol as string | undefined });
  const shard = values.shard === undefined ? undefined : parseShard(String(values.shard));
  const backend = await startBackend(values.backend);
  // The run's first line waits for the first note: bad input found by runBench's checks (a damaged
  // results file, an unknown backbone) is then the only line printed.
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    out.note(`backend ${describeBackend(backend)}; protocol ${spec.protocol}; ${spec.backbones.length} backbone(s) × ${spec.tasks.length} task(s) × ${spec.methods.length} method variant(s)${shard ? `; shard ${shard.index}/${shard.count}` : ''}`);
  };
  const progress = benchProgress(out);
  const result = await runBench({
    spec,
    outDir,
    shard,
    loaders: {
      checkBackbone: (b) => checkBackbone({ backbone: b.name, weights: b.weights, config: b.config }),
      loadBackbone: async (b) => (await resolveBackbone({ backbone: b.name, weights: b.weights, config: b.config })).backbone,
      loadTask: (data, seed) => loadTaskData(data, seed),
    },
    onProgress: (p) => {
      announce();
      progress(p);
    },
    onCell: (cell, skipped) => {
      announce();
      out.note(`${skipped ? 'done earlier' : 'finished'}: ${cellLine(cell)}`);
    },
    onNote: (text) => {
      announce();
      out.note(text);
    },
    cache: values['no-cache'] ? false : { ...(values['cache-dir'] ? { dir: String(values['cache-dir']) } : {}) },
  });
  announce();
  out.result(
    { resultsFile: result.resultsFile, cells: result.cells, skipped: result.skipped, reports: result.reports },
    () =>
      `${result.cells.length} cells (${result.skipped} skipped as finished) in ${result.resultsFile}\n` +
      (result.reports.length ? `reports: ${result.reports.join(', ')}` : `shard done; when every shard is done: vpeft bench merge --out ${outDir}`),
  );
}

