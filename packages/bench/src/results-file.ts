import { open, readFile, truncate } from 'node:fs/promises';
import { BenchResultsError } from './errors';
import type { CellResult, HeaderRecord, ResultRecord, RunRecord } from './records';

/** The file a run writes: `results.jsonl`, or `results.shard-<i>-of-<N>.jsonl` for a shard. */
export function resultsFileName(shard: { index: number; count: number } | null | undefined): string {
  return shard && shard.count > 1 ? `results.shard-${shard.index}-of-${shard.count}.jsonl` : 'results.jsonl';
}

/** The lines of a results file, in order. A torn last line (a run killed mid-write) is left out. */
export interface ResultsContent {
  header: HeaderRecord;
  runs: RunRecord[];
  cells: CellResult[];
  /** Byte length of the intact lines (the file is cut back to it before appending). */
  intactBytes: number;
  tornBytes: number;
}

/** Reads a results file; throws {@link BenchResultsError} when it has no header. Returns undefined when absent. */
export async function readResults(path: string): Promise<ResultsContent | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const end = text.lastIndexOf('\n') + 1;
  const records: ResultRecord[] = [];
  let lineNo = 0;
  for (const line of text.slice(0, end).split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as ResultRecord);
    } catch {
      throw new BenchResultsError(`${path}:${lineNo}: not a JSON line; the results file is damaged`);
    }
  }
  const header = records[0];
  if (!header || header.kind !== 'header' || header.format !== 'vpeft-bench-results') throw new BenchResultsError(`${path}: not a vpeft bench results file (no header line)`);
  return {
    header,
    runs: records.filter((r): r is RunRecord => r.kind === 'run'),
    cells: records.filter((r): r is CellResult => r.kind === 'cell'),
    intactBytes: Buffer.byteLength(text.slice(0, end)),
    tornBytes: Buffer.byteLength(text.slice(end)),
  };
}

/**
 * Appends one record as one line with a single `write(2)` on an `O_APPEND` descriptor, then fsyncs:
 * a kill leaves either the whole line or a torn tail that {@link readResults} ignores and
 * {@link openResults} cuts off.
 */
export async function appendRecord(path: string, record: ResultRecord): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Opens a results file for a run of `header`'s spec: creates it with the header line, or resumes it
 * (dropping a torn last line) when its spec hash matches; a file from another spec is refused.
 */
export async function openResults(path: string, header: HeaderRecord): Promise<ResultsContent> {
  const existing = await readResults(path);
  if (!existing) {
    await appendRecord(path, header);
    return { header, runs: [], cells: [], intactBytes: 0, tornBytes: 0 };
  }
  if (existing.header.specHash !== header.specHash) {
    throw new BenchResultsError(`${path} holds results of another spec (hash ${existing.header.specHash}, this spec ${header.specHash}); use another --out folder or remove the file`);
  }
  if (existing.tornBytes > 0) await truncate(path, existing.intactBytes);
  return existing;
}
