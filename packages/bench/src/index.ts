/**
 * `@vpeft/bench`: the V-PEFT Bench protocol as a runnable grid. A YAML/JSON spec (backbones, method
 * option grids and compositions, tasks, hyper-parameters, seeds) expands into cells; each cell selects
 * its hyper-parameters on val200, retrains on train800val200 and reports test top-1 (mean ± std over
 * seeds), trainable parameters, PPT, throughput, memory, wall time and adapter size. Results append to
 * a JSON-lines file (a killed run resumes), shards run apart and merge, and reports come out as
 * markdown, CSV, JSON, an SVG plot and a self-contained HTML page.
 */
export { parseBenchSpec, specHash, PROTOCOLS, type BenchSpec, type BackboneSpec, type Protocol } from './spec';
export { parseHyper, hyperPoints, formatHyperPoint, DEFAULT_HYPER, type HyperParameters, type HyperPoint } from './hyper';
export { parseMethods, configureVariant, LINEAR_PROBE, type MethodVariant, type MethodComponent } from './methods';
export { parseTasks, registerTaskKind, limitTask, trainWithVal, type TaskSpec, type TaskData, type TaskGroup, type TaskLimit, type TaskKindCheck } from './tasks';
export { gridCells, parseShard, shardCells, type Cell, type Shard } from './grid';
export { ppt, meanStd, mean } from './metrics';
export { directoryBytes } from './directory-bytes';
export { trainRun, scoreSplit, type RunRequest, type RunOutcome } from './run';
export { runCell, plannedSteps, type CellContext, type CellStep } from './cell';
export { runBench, type BenchLoaders, type BenchProgress, type RunBenchOptions, type RunBenchResult } from './runner';
export { mergeShards, type MergeResult } from './merge';
export { readResults, appendRecord, openResults, resultsFileName, type ResultsContent } from './results-file';
export type { CellResult, RunRecord, HeaderRecord, ParamCounts, ResultRecord } from './records';
export { writeReports, REPORT_FILES } from './report/write';
export { markdownReport } from './report/markdown';
export { csvReport } from './report/csv';
export { svgPlot } from './report/svg';
export { htmlReport } from './report/html';
export { meanRows, meanKinds, type MeanRow, type MeanKind } from './report/summary';
export { BenchSpecError, BenchResultsError } from './errors';
