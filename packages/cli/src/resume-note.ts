import { join } from 'node:path';
import { lastCheckpointDirectory } from '@vpeft/train';
import type { Output } from './output';

/**
 * With `--resume`, says so when `outDir` holds no checkpoint to continue from (a fresh folder, or a
 * mistyped `--out`): the run then starts from step 0, which would otherwise go unnoticed.
 */
export async function noteFreshResume(out: Output, outDir: string | undefined, resume: boolean | undefined): Promise<void> {
  if (!resume || outDir === undefined) return;
  const checkpoints = join(outDir, 'checkpoints');
  if (!(await lastCheckpointDirectory(checkpoints))) out.note(`--resume: no checkpoint in ${checkpoints} yet; training from the start`);
}
