import { flattenMethods, OptionError, type MethodInput, type MethodInstance } from '@vpeft/core';
import { TaskError } from './errors';

/** One task of a multi-task model: its name, its own methods and its head's classes. */
export interface TaskSpec {
  /** Task name: lowercase letters, digits and `_`, starting with a letter (e.g. `digits`). */
  name: string;
  /** Classes of the task's head. */
  numClasses: number;
  /** Methods only this task runs (any registered addition/reparameterisation method, composed with `compose`). */
  methods?: MethodInput;
  /** Class names, kept in the saved adapter. */
  classNames?: readonly string[];
  /** Where the task's data comes from (e.g. the CLI's data spec `mnist:classes=5|6|7|8|9`), kept in the saved adapter. */
  source?: string;
}

/** Options of {@link createMultiTaskModel}. */
export interface MultiTaskOptions {
  /** Methods every task runs (outermost at a shared site: shared transforms wrap the task's ones). */
  shared?: MethodInput;
  /** The tasks, at least one; names unique. */
  tasks: readonly TaskSpec[];
  /** Seed of every new variable's initialisation (default 0). */
  seed?: number;
}

/** Task names: usable in parameter and instance names (`<task>-<method>`), in file names and on the command line. */
export const TASK_NAME = /^[a-z][a-z0-9_]*$/;

/** A task with its methods resolved to instances named `<task>-<instance>`. */
export interface ResolvedTask {
  readonly name: string;
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  readonly source?: string;
  /** The task's own method instances, renamed `<task>-<name>` so they never collide with shared ones. */
  readonly methods: readonly MethodInstance<object>[];
}

/** Checks the tasks (names, classes, methods) and resolves them; errors say what was given and what is allowed. */
export function resolveTasks(options: MultiTaskOptions): { shared: MethodInstance<object>[]; tasks: ResolvedTask[] } {
  if (!Array.isArray(options.tasks) || options.tasks.length === 0) {
    throw new OptionError('tasks', options.tasks, 'a non-empty array of { name, numClasses, methods? }', 'multitask');
  }
  const shared = options.shared === undefined ? [] : flattenMethods(options.shared);
  const seen = new Set<string>();
  const tasks = options.tasks.map((task): ResolvedTask => {
    if (typeof task.name !== 'string' || !TASK_NAME.test(task.name)) {
      throw new OptionError('tasks[].name', task.name, 'lowercase letters, digits and "_", starting with a letter', 'multitask');
    }
    if (seen.has(task.name)) throw new TaskError(`multitask: duplicate task name "${task.name}"; every task needs its own name`);
    seen.add(task.name);
    if (!Number.isInteger(task.numClasses) || task.numClasses < 1) {
      throw new OptionError(`tasks.${task.name}.numClasses`, task.numClasses, 'a positive integer', 'multitask');
    }
    if (task.classNames && task.classNames.length !== task.numClasses) {
      throw new OptionError(`tasks.${task.name}.classNames`, `${task.classNames.length} names`, `${task.numClasses} names (numClasses)`, 'multitask');
    }
    const own = task.methods === undefined ? [] : flattenMethods(task.methods);
    for (const m of own) {
      if (m.definition.select) {
        throw new TaskError(
          `multitask: task "${task.name}" has the partial-based method "${m.name}", which unfreezes backbone weights that every task shares; use it as a shared method, or give the task an addition or reparameterisation method`,
        );
      }
    }
    const methods = own.map((m) => m.definition.configure(m.options as never, { name: taskInstanceName(task.name, m.name) }) as MethodInstance<object>);
    return { name: task.name, numClasses: task.numClasses, ...(task.classNames ? { classNames: task.classNames } : {}), ...(task.source !== undefined ? { source: task.source } : {}), methods };
  });
  return { shared, tasks };
}

/** The instance name of a task's own method: `<task>-<instance>` (e.g. `emoji-adapter`). */
export function taskInstanceName(task: string, instance: string): string {
  return `${task}-${instance}`;
}
