import { BenchSpecError } from './errors';
import type { MethodVariant } from './methods';
import type { BackboneSpec, BenchSpec } from './spec';
import type { TaskSpec } from './tasks';

/** One (backbone, method variant, task) of the grid: the unit that is selected, reported, resumed and sharded. */
export interface Cell {
  /** Position in the grid (0-based): backbones, then tasks, then methods vary fastest. */
  index: number;
  /** Stable key, `<backbone> | <task> | <method>`. */
  id: string;
  backbone: BackboneSpec;
  task: TaskSpec;
  method: MethodVariant;
}

/** Every cell of the grid, in order. */
export function gridCells(spec: BenchSpec): Cell[] {
  const cells: Cell[] = [];
  for (const backbone of spec.backbones) {
    for (const task of spec.tasks) {
      for (const method of spec.methods) {
        cells.push({ index: cells.length, id: `${backbone.name} | ${task.name} | ${method.label}`, backbone, task, method });
      }
    }
  }
  return cells;
}

/** A slice of the grid: shard `index` of `count` (0-based). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/N` (0 <= i < N). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new BenchSpecError(`--shard ${text}: expected i/N with 0 <= i < N, e.g. 0/3`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new BenchSpecError(`--shard ${text}: the shard count must be at least 1`);
  if (index >= count) throw new BenchSpecError(`--shard ${text}: shard index ${index} is out of range; allowed 0..${count - 1}`);
  return { index, count };
}

/** The cells of one shard: every `count`-th cell from `index` (deterministic; spreads slow backbones and tasks evenly). */
export function shardCells(cells: readonly Cell[], shard: Shard | undefined): Cell[] {
  if (!shard || shard.count === 1) return [...cells];
  if (shard.count > cells.length) throw new BenchSpecError(`--shard ${shard.index}/${shard.count}: more shards than the grid's ${cells.length} cells; use at most ${cells.length}`);
  return cells.filter((c) => c.index % shard.count === shard.index);
}
