import * as tf from '@tensorflow/tfjs-core';
import {
  applyPeft,
  init,
  initialize,
  hashSeed,
  ParameterStore,
  PeftModel,
  SiteChains,
  type Backbone,
  type MethodInstance,
  type Parameter,
} from '@vpeft/core';
import { TaskError } from './errors';
import { resolveTasks, type MultiTaskOptions, type ResolvedTask } from './options';
import { loadMultiTaskWeights, saveMultiTaskAdapter } from './files';
import { summarizeMultiTask, type MultiTaskSummary } from './summary';

/** The logits of the samples of one task in a mixed batch. */
export interface TaskLogits {
  readonly task: string;
  /** Positions of this task's samples in the batch, ascending. */
  readonly indices: readonly number[];
  /** `[indices.length, numClasses of the task]`. */
  readonly logits: tf.Tensor2D;
}

/** The samples of one task in a batch: positions, in batch order. */
export interface TaskGroup {
  readonly task: string;
  readonly indices: number[];
}

/** @internal Constructor arguments; use {@link createMultiTaskModel}. */
export interface MultiTaskModelParts {
  backbone: Backbone;
  shared: MethodInstance<object>[];
  tasks: ResolvedTask[];
  parameters: ParameterStore;
  views: Map<string, PeftModel>;
  seed: number;
}

/** Parameter name of a task's head weight or bias in the multi-task model (in a task's view it is `head.<part>`). */
export function headParameterName(task: string, part: 'weight' | 'bias'): string {
  return `heads.${task}.${part}`;
}

/**
 * Builds a multi-task model over one frozen backbone: the `shared` methods' modules once, each
 * task's own methods' modules (instances renamed `<task>-<name>`) and a linear head per task.
 *
 * Routing: a batch is split by task at the input and each group runs through the backbone with the
 * shared transforms and its own task's transforms only (shared ones outermost), then its own head.
 * Each sample's logits are therefore exactly those of the single-task model
 * `applyPeft(backbone, [...shared, ...task methods], ...)`, for every method and backbone (prompts
 * may change a task's sequence length; branch ops close over the batch size), and a task absent
 * from a batch gets no gradient.
 */
export function createMultiTaskModel(backbone: Backbone, options: MultiTaskOptions): MultiTaskModel {
  const { shared, tasks } = resolveTasks(options);
  const seed = options.seed ?? 0;
  const instances = [...shared, ...tasks.flatMap((t) => t.methods)];
  // applyPeft builds every module once (shared and all tasks'); its one-class head is not used.
  const base = applyPeft(backbone, instances.length ? instances : [], { numClasses: 1, seed });
  const parameters = base.parameters;
  parameters.remove('head.weight');
  parameters.remove('head.bias');
  const views = new Map<string, PeftModel>();
  try {
    for (const task of tasks) {
      const weight = parameters.create(headParameterName(task.name, 'weight'), initialize(init.truncatedNormal(0.02), [backbone.featureDim, task.numClasses], hashSeed(headParameterName(task.name, 'weight'), seed)), 'weight', 'head', true);
      const bias = parameters.create(headParameterName(task.name, 'bias'), tf.zeros([task.numClasses]), 'bias', 'head', true);
      views.set(task.name, taskView(backbone, base, shared, task, weight, bias, seed));
    }
  } catch (error) {
    base.dispose();
    throw error;
  }
  return new MultiTaskModel({ backbone, shared, tasks, parameters, views, seed });
}

/** A PeftModel for one task that shares the multi-task model's variables: shared + task modules, the task's head as `head.*`. */
function taskView(backbone: Backbone, base: PeftModel, shared: readonly MethodInstance<object>[], task: ResolvedTask, weight: Parameter, bias: Parameter, seed: number): PeftModel {
  const methods = [...shared, ...task.methods];
  const owners = new Set(methods.map((m) => m.name));
  const store = new ParameterStore();
  for (const p of base.parameters.list()) if (p.owner === 'backbone' || owners.has(p.owner)) store.add(p);
  store.add({ ...weight, name: 'head.weight' });
  store.add({ ...bias, name: 'head.bias' });
  const chains = new SiteChains(backbone.sites());
  for (const attached of base.chains.modules()) if (owners.has(attached.owner)) chains.attach(attached.owner, attached.site, attached.module);
  return new PeftModel({ backbone, methods, parameters: store, chains, numClasses: task.numClasses, classNames: task.classNames, seed });
}

/**
 * One frozen backbone, methods shared by all tasks, methods per task and a head per task. Train it
 * with `fitMultiTask`; serve one task with {@link task} (a PeftModel sharing these variables) or
 * `loadTaskModel` (reads only that task's files).
 */
export class MultiTaskModel {
  readonly backbone: Backbone;
  /** The methods every task runs. */
  readonly shared: readonly MethodInstance<object>[];
  readonly tasks: readonly ResolvedTask[];
  /** Backbone parameters, every module's parameters (shared counted once) and the heads (`heads.<task>.*`). */
  readonly parameters: ParameterStore;
  readonly seed: number;
  private readonly views: Map<string, PeftModel>;

  constructor(parts: MultiTaskModelParts) {
    this.backbone = parts.backbone;
    this.shared = parts.shared;
    this.tasks = parts.tasks;
    this.parameters = parts.parameters;
    this.views = parts.views;
    this.seed = parts.seed;
  }

  /** Task names, in the order given. */
  get taskNames(): string[] {
    return this.tasks.map((t) => t.name);
  }

  /** The task's spec (name, classes, its own method instances); throws naming the known tasks. */
  taskSpec(name: string): ResolvedTask {
    const spec = this.tasks.find((t) => t.name === name);
    if (!spec) throw new TaskError(`unknown task "${name}"; this model's tasks: ${this.taskNames.join(', ')}`);
    return spec;
  }

  /**
   * The single-task model of `name`: a PeftModel over the same backbone with the shared and the
   * task's modules and its head, sharing this model's variables (training one trains the other).
   */
  task(name: string): PeftModel {
    this.taskSpec(name);
    return this.views.get(name)!;
  }

  /**
   * Splits a batch by task: one group per task present, in the model's task order, each holding its
   * samples' positions in batch order. Throws on a task name the model does not have.
   */
  groupByTask(tasks: readonly string[]): TaskGroup[] {
    const groups = new Map<string, number[]>(this.tasks.map((t) => [t.name, []]));
    tasks.forEach((task, i) => {
      const group = groups.get(task);
      if (!group) throw new TaskError(`batch sample ${i} has task ${JSON.stringify(task)}, which this model does not have; its tasks: ${this.taskNames.join(', ')}`);
      group.push(i);
    });
    return [...groups].filter(([, indices]) => indices.length > 0).map(([task, indices]) => ({ task, indices }));
  }

  /**
   * Logits of a mixed batch, one entry per task present: each task's samples run through the shared
   * modules, the task's own modules and its head. `tasks[i]` names sample i's task. Call inside a
   * tidy or dispose the logits.
   */
  forward(images: tf.Tensor4D, tasks: readonly string[], options: { training?: boolean } = {}): TaskLogits[] {
    if (tasks.length !== images.shape[0]) {
      throw new TaskError(`multitask forward: ${images.shape[0]} images but ${tasks.length} task names; give one task per image`);
    }
    return this.groupByTask(tasks).map(({ task, indices }) => {
      const x = indices.length === images.shape[0] ? images : tf.tidy(() => tf.gather(images, tf.tensor1d(indices, 'int32')));
      const logits = this.views.get(task)!.forward(x, options);
      if (x !== images) x.dispose();
      return { task, indices, logits };
    });
  }

  /** Parameters the optimizer updates: shared and per-task modules (each once), unfrozen backbone parameters and the heads. */
  trainableParameters(): Parameter[] {
    return this.parameters.trainable();
  }

  /** The trainable tf.Variables. */
  trainableVariables(): tf.Variable[] {
    return this.trainableParameters().map((p) => p.variable);
  }

  /** Parameter counts: backbone, shared modules (once), each task's modules and head, totals. */
  summary(): MultiTaskSummary {
    return summarizeMultiTask(this);
  }

  /** Saves every module and head as one multi-task adapter directory (see `saveMultiTaskAdapter`); `fit` checkpoints with it. */
  async saveAdapter(dir: string): Promise<void> {
    await saveMultiTaskAdapter(this, dir);
  }

  /** Loads a multi-task adapter saved from a model with the same backbone, methods and tasks. */
  async loadAdapter(dir: string): Promise<void> {
    await loadMultiTaskWeights(this, dir);
  }

  /** Frees every module's and head's variables; `{ backbone: true }` frees the backbone too. */
  dispose(options: { backbone?: boolean } = {}): void {
    for (const p of this.parameters.list()) if (p.owner !== 'backbone') this.parameters.remove(p.name);
    if (options.backbone) this.backbone.dispose();
  }
}
