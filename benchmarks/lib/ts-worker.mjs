// Bootstraps a TypeScript worker_threads entry: Node 20 does not hand tsx's loader hooks to workers,
// so register them here, then import the entry named in workerData.entry.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
