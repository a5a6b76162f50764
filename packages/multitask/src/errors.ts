import { VpeftError } from '@vpeft/core';

/**
 * Bad multi-task input: a duplicate or unknown task name, a batch sample naming a task the model does
 * not have, a task without data, an adapter without the requested task. The CLI exits 2 for it.
 */
export class TaskError extends VpeftError {
  override name = 'TaskError';
}
