import * as tf from '@tensorflow/tfjs-core';
import { VpeftError } from '../errors/errors';
import { globToRegExp } from './glob';

/** What a parameter is, for summaries, weight decay and selection by partial-based methods. */
export type ParameterRole = 'weight' | 'bias' | 'norm-weight' | 'norm-bias' | 'embedding' | 'token' | 'scale' | 'other';

/** Who a parameter belongs to: the backbone, the classification head, or a method instance by name. */
export type ParameterOwner = 'backbone' | 'head' | (string & {});

/**
 * Where a backbone parameter sits in the forward pass, declared by the backbone (so methods and
 * frozen-prefix execution need not parse names).
 */
export interface ParameterPlace {
  /**
   * The index of the block (forward order, counted over the whole backbone) whose step runs it;
   * undefined outside the blocks (embeddings before the first block, the final norm after the last).
   */
  readonly block?: number;
  /** The stage (resolution level) of a hierarchical backbone (Swin, a CNN): 0 first. */
  readonly stage?: number;
}

/** A named tf.Variable with its role, owner, place and trainable flag. */
export interface Parameter extends ParameterPlace {
  /** Dotted timm-style name, e.g. `blocks.3.attn.qkv.weight` or `lora.blocks.3.attn.qkv.lora_A`. */
  readonly name: string;
  readonly variable: tf.Variable;
  readonly role: ParameterRole;
  readonly owner: ParameterOwner;
  /**
   * Whether the optimizer updates it; frozen parameters get no gradient computed. One flag: once the
   * parameter is in a {@link ParameterStore}, this reads and writes the tf.Variable's own `trainable`.
   */
  trainable: boolean;
  /** The partial-based method instance that unfroze this backbone parameter, if any. */
  selectedBy?: string;
}

/** Parameter counts of one owner. */
export interface OwnerCount {
  owner: ParameterOwner;
  total: number;
  trainable: number;
}

/** The number of scalars in a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Makes `parameter.trainable` an accessor of its variable's `trainable` (in place; the one flag). */
function bindTrainable(parameter: Parameter): Parameter {
  if (Object.getOwnPropertyDescriptor(parameter, 'trainable')?.get) return parameter;
  const initial = parameter.trainable;
  const { variable } = parameter;
  Object.defineProperty(parameter, 'trainable', {
    get: () => variable.trainable,
    set: (value: boolean) => {
      variable.trainable = value;
    },
    enumerable: true,
    configurable: false,
  });
  variable.trainable = initial;
  return parameter;
}

/**
 * An ordered collection of named parameters with freezing by glob and counts per owner. A
 * parameter's `trainable` is its tf.Variable's own flag (one flag, see {@link Parameter.trainable}).
 */
export class ParameterStore {
  private readonly byName = new Map<string, Parameter>();

  /** Adds a parameter; names are unique. */
  add(parameter: Parameter): Parameter {
    if (this.byName.has(parameter.name)) throw new VpeftError(`parameter "${parameter.name}" already exists`);
    this.byName.set(parameter.name, bindTrainable(parameter));
    return parameter;
  }

  /** Creates a tf.Variable from `value` (taken over, not copied) and adds it; `place` as the backbone declares it. */
  create(name: string, value: tf.Tensor, role: ParameterRole, owner: ParameterOwner, trainable: boolean, place: ParameterPlace = {}): Parameter {
    const variable = tf.variable(value, trainable, `${owner}/${name}#${nextVariableId++}`);
    value.dispose();
    return this.add({ name, variable, role, owner, trainable, ...place });
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The parameter named `name`; throws with close names when absent. */
  get(name: string): Parameter {
    const parameter = this.byName.get(name);
    if (!parameter) {
      const stem = name.split('.').slice(0, -1).join('.');
      const near = this.names().filter((n) => n.startsWith(stem)).slice(0, 8);
      throw new VpeftError(`no parameter named "${name}"${near.length ? `; parameters near it: ${near.join(', ')}` : ''}`);
    }
    return parameter;
  }

  /** The parameter's variable (shorthand for `get(name).variable`). */
  variable(name: string): tf.Variable {
    return this.get(name).variable;
  }

  list(): Parameter[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Parameters whose name matches the glob (see {@link globToRegExp}). */
  match(glob: string): Parameter[] {
    const re = globToRegExp(glob);
    return this.list().filter((p) => re.test(p.name));
  }

  /** Sets `trainable` on every parameter matching the glob; returns how many matched. */
  setTrainable(glob: string, trainable: boolean): number {
    const matched = this.match(glob);
    for (const parameter of matched) parameter.trainable = trainable;
    return matched.length;
  }

  /** Freezes every parameter matching the glob (default: all). */
  freeze(glob = '**'): number {
    return this.setTrainable(glob, false);
  }

  /** Unfreezes every parameter matching the glob. */
  unfreeze(glob: string): number {
    return this.setTrainable(glob, true);
  }

  /** The trainable parameters, in insertion order. */
  trainable(): Parameter[] {
    return this.list().filter((p) => p.trainable);
  }

  /** Total and trainable scalar counts per owner, in first-seen order. */
  countsByOwner(): OwnerCount[] {
    const counts = new Map<ParameterOwner, OwnerCount>();
    for (const p of this.list()) {
      const row = counts.get(p.owner) ?? { owner: p.owner, total: 0, trainable: 0 };
      const size = sizeOf(p.variable.shape);
      row.total += size;
      if (p.trainable) row.trainable += size;
      counts.set(p.owner, row);
    }
    return [...counts.values()];
  }

  /** Sum of scalars over parameters passing `filter`. */
  count(filter: (p: Parameter) => boolean = () => true): number {
    return this.list().filter(filter).reduce((n, p) => n + sizeOf(p.variable.shape), 0);
  }

  /** Removes a parameter and disposes its variable. */
  remove(name: string): void {
    const parameter = this.byName.get(name);
    if (!parameter) return;
    parameter.variable.dispose();
    this.byName.delete(name);
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const p of this.byName.values()) p.variable.dispose();
    this.byName.clear();
  }
}

let nextVariableId = 0;
