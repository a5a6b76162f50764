import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MULTITASK_CONFIG_FILE } from '@vpeft/multitask';
import { UsageError } from './errors';

/**
 * Refuses a multi-task adapter (one `vpeft train --task ...` wrote) given to a command that reads a
 * single-task one, saying what it is and which command reads it.
 */
export function checkSingleTaskAdapter(dir: string, command: string): void {
  if (!existsSync(join(dir, MULTITASK_CONFIG_FILE))) return;
  throw new UsageError(`--adapter ${dir} is a multi-task adapter (it holds ${MULTITASK_CONFIG_FILE}); vpeft ${command} takes a single-task adapter. Evaluate one of its tasks with vpeft eval --adapter ${dir} --task NAME`);
}
