import type { Shard } from './grid';
import type { HyperPoint } from './hyper';
import type { BenchSpec, Protocol } from './spec';
import type { TaskGroup } from './tasks';

/** First line of every results file: which spec (and shard) the lines belong to. */
export interface HeaderRecord {
  kind: 'header';
  format: 'vpeft-bench-results';
  version: 1;
  specHash: string;
  spec: BenchSpec;
  /** Cells in the whole grid. */
  cells: number;
  shard: Shard | null;
}

/** Trainable-parameter counts of a cell's model. */
export interface ParamCounts {
  /** Trainable parameters without the classification head (the survey's count; PPT uses it). */
  trainable: number;
  /** Trainable parameters including the head. */
  trainableWithHead: number;
  /** Parameters of the backbone. */
  backbone: number;
}

/** One finished training run inside a cell (lets a killed cell resume its finished runs). */
export interface RunRecord {
  kind: 'run';
  cell: string;
  /** `select`: one hyper-parameter point; `final`: the chosen point with one seed. */
  phase: 'select' | 'final';
  point: HyperPoint;
  seed: number;
  /** Top-1 on val200 after the last epoch (val200 protocol, selection runs). */
  valTop1?: number;
  /** Test top-1: after the last epoch (val200) or the best over epochs (benchmark-code). */
  testTop1?: number;
  params: ParamCounts;
  imagesPerSecond: number;
  peakMemoryBytes: number;
  wallSeconds: number;
  steps: number;
  adapterBytes?: number;
}

/** The result of one (backbone, method variant, task) cell. */
export interface CellResult {
  kind: 'cell';
  index: number;
  id: string;
  backbone: string;
  task: string;
  taskGroup: TaskGroup | null;
  method: string;
  family: string;
  protocol: Protocol;
  /** The hyper-parameters the protocol chose. */
  chosen: HyperPoint;
  /** Val200 top-1 of the chosen point (null under benchmark-code, which has no val). */
  valTop1: number | null;
  /** Mean test top-1 over seeds, in [0, 1]. */
  testTop1: number;
  /** Sample standard deviation of test top-1 over seeds (0 with one seed). */
  testStd: number;
  seeds: number[];
  testBySeed: number[];
  params: ParamCounts;
  /** 100 · trainable (without head) / backbone parameters. */
  percentOfBackbone: number;
  /** PPT of the mean test top-1 and the trainable parameters without the head. */
  ppt: number;
  /** Mean training throughput of the reported runs. */
  imagesPerSecond: number;
  /** Largest tensor-memory peak of the cell's runs, bytes. */
  peakMemoryBytes: number;
  /** Training time of every run of the cell, selection included, seconds. */
  wallSeconds: number;
  /** Size of the saved adapter (config + safetensors of the trainable tensors). */
  adapterBytes: number;
}

/** Any line of a results file. */
export type ResultRecord = HeaderRecord | RunRecord | CellResult;
