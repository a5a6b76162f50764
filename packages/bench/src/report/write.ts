import { join } from 'node:path';
import { writeFileAtomic } from '@vpeft/core';
import { meanRows, meanKinds } from './summary';
import { csvReport } from './csv';
import { htmlReport } from './html';
import { markdownReport } from './markdown';
import { svgPlot } from './svg';
import type { CellResult, HeaderRecord } from '../records';
import { PROTOCOLS } from '../spec';

/** Files {@link writeReports} writes into the output folder. */
export const REPORT_FILES = ['results.md', 'results.csv', 'results.json', 'results.svg', 'report.html'] as const;

/** Writes every report of a complete grid (each file atomically); returns their paths. */
export async function writeReports(outDir: string, header: HeaderRecord, cells: readonly CellResult[]): Promise<string[]> {
  const sorted = [...cells].sort((a, b) => a.index - b.index);
  const protocol = header.spec.protocol;
  const generated = new Date().toISOString();
  const kinds = meanKinds(sorted);
  const json = {
    format: 'vpeft-bench-report',
    version: 1,
    specHash: header.specHash,
    protocol,
    protocolNote: PROTOCOLS[protocol],
    spec: header.spec,
    cells: sorted,
    means: meanRows(sorted).map((m) => ({ ...m, labels: Object.fromEntries(kinds.map((k) => [k.key, k.label])) })),
  };
  const files: Record<(typeof REPORT_FILES)[number], string> = {
    'results.md': markdownReport(sorted, protocol),
    'results.csv': csvReport(sorted),
    'results.json': `${JSON.stringify(json, null, 2)}\n`,
    'results.svg': svgPlot(sorted),
    'report.html': htmlReport(sorted, protocol, { specHash: header.specHash, generated }),
  };
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = join(outDir, name);
    await writeFileAtomic(path, text);
    paths.push(path);
  }
  return paths;
}
