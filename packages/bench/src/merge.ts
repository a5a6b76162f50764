import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@vpeft/core';
import { BenchResultsError } from './errors';
import { gridCells } from './grid';
import type { CellResult, HeaderRecord } from './records';
import { writeReports } from './report/write';
import { readResults } from './results-file';

const SHARD_FILE = /^results\.shard-(\d+)-of-(\d+)\.jsonl$/;

/** What {@link mergeShards} did. */
export interface MergeResult {
  resultsFile: string;
  cells: CellResult[];
  shards: string[];
  reports: string[];
}

/** The shard results files in `outDir`, sorted; a missing folder is a {@link BenchResultsError}. */
async function shardFiles(outDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    throw new BenchResultsError(`${outDir}: no such folder; merge reads the results.shard-<i>-of-<N>.jsonl that vpeft bench --shard i/N --out ${outDir} writes there`);
  }
  return names.filter((f) => SHARD_FILE.test(f)).sort();
}

/**
 * Joins shard results into one `results.jsonl` and writes the reports. `files` default to every
 * `results.shard-<i>-of-<N>.jsonl` in `outDir`. Refuses (with {@link BenchResultsError}) files from
 * different specs (spec hash), shard counts that disagree, missing or repeated shards, and cells that
 * are missing (an unfinished shard) or appear twice.
 */
export async function mergeShards(outDir: string, files?: readonly string[]): Promise<MergeResult> {
  const paths = files?.length ? [...files] : (await shardFiles(outDir)).map((f) => join(outDir, f));
  if (paths.length === 0) throw new BenchResultsError(`no shard results (results.shard-<i>-of-<N>.jsonl) in ${outDir}`);
  const contents = [];
  for (const path of paths) {
    const content = await readResults(path);
    if (!content) throw new BenchResultsError(`${path}: no such file`);
    contents.push({ path, ...content });
  }
  const first = contents[0]!;
  for (const c of contents) {
    if (c.header.specHash !== first.header.specHash) {
      throw new BenchResultsError(`${c.path} comes from another spec (hash ${c.header.specHash}) than ${first.path} (hash ${first.header.specHash}); merge shards of one spec only`);
    }
  }
  const count = first.header.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const c of contents) {
    const shard = c.header.shard;
    if (!shard || shard.count !== count) throw new BenchResultsError(`${c.path} is ${shard ? `shard ${shard.index}/${shard.count}` : 'an unsharded result'}, expected one of ${count} shards`);
    if (seen.has(shard.index)) throw new BenchResultsError(`shard ${shard.index}/${count} given twice: ${seen.get(shard.index)} and ${c.path}`);
    seen.set(shard.index, c.path);
  }
  const missingShards = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missingShards.length) throw new BenchResultsError(`missing shard results for ${missingShards.map((i) => `${i}/${count}`).join(', ')} (run them, then merge)`);
  const byId = new Map<string, CellResult>();
  for (const c of contents) {
    for (const cell of c.cells) {
      if (byId.has(cell.id)) throw new BenchResultsError(`cell "${cell.id}" appears in more than one shard file`);
      byId.set(cell.id, cell);
    }
  }
  const grid = gridCells(first.header.spec);
  const missing = grid.filter((g) => !byId.has(g.id));
  if (missing.length) {
    throw new BenchResultsError(`${missing.length} of ${grid.length} cells have no result yet (e.g. "${missing[0]!.id}"); finish those shards (re-run them: they resume), then merge`);
  }
  const cells = grid.map((g) => byId.get(g.id)!);
  const header: HeaderRecord = { ...first.header, shard: null };
  const resultsFile = join(outDir, 'results.jsonl');
  await writeFileAtomic(resultsFile, [header, ...cells].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const reports = await writeReports(outDir, header, cells);
  return { resultsFile, cells, shards: paths, reports };
}
