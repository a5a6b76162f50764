import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { adapterModelConfig, currentBackend, type PeftModel } from '@vpeft/core';
import { canRebuildInWorker } from './worker-model';

/** Fewest images a worker computes per step: below this, splitting a batch costs more than it saves. */
export const MIN_IMAGES_PER_WORKER = 8;

/**
 * Fewest estimated seconds of one-thread training for which `workers: 'auto'` starts a pool. Measured
 * (benchmarks/worker-start.ts, 2 cores): starting 2 workers costs 1.1 s idle and 4.7–6.4 s at load
 * average 13 (tfjs + wasm set-up, model rebuild, weight copy); 2 workers take 0.55 of one thread's
 * ViT-Ti step and 0.78 of the small MNIST ViT's, so a run saves 20–45% of its one-thread time: from
 * ~30 s on, that saving (6–13 s) exceeds the start cost even under load. Test-sized runs (a few
 * seconds) stay on one thread.
 */
export const MIN_AUTO_WORKER_SECONDS = 30;

/** What {@link chooseWorkers} needs to know about the run. */
export interface WorkerChoiceOptions {
  /** `'auto'`, or a number of threads (1: this thread). */
  requested: number | 'auto';
  /** Images per optimizer step. */
  batchSize: number;
  /** Optimizer steps of the whole run (epochs × steps per epoch). */
  totalSteps: number;
  /** True when training reads cached frozen-part outputs (cheap steps; workers take images): one thread. */
  featureCache?: boolean;
  /** Cores to use; default `os.availableParallelism()`. */
  cores?: number;
}

/** The decision of {@link chooseWorkers}: a thread count (1: no pool) and one line saying why. */
export interface WorkerChoice {
  workers: number;
  line: string;
}

/**
 * Seconds of one training step of `batchSize` images on this thread, estimated as 3 × the time of a
 * forward pass over `batchSize` images (after a one-image warm-up that sets up the kernels): a
 * backward pass costs about two forward passes. Small batches are timed whole because per-operation
 * overhead, not arithmetic, dominates small models.
 */
export async function estimateStepSeconds(model: PeftModel, batchSize: number): Promise<number> {
  const [h, w, c] = model.backbone.inputShape;
  const timeForward = async (n: number): Promise<number> => {
    const t0 = performance.now();
    const logits = tf.tidy(() => model.forward(tf.zeros([n, h, w, c]) as tf.Tensor4D));
    await logits.data();
    logits.dispose();
    return (performance.now() - t0) / 1000;
  };
  await timeForward(1);
  return 3 * (await timeForward(batchSize));
}

const ONE_THREAD = '--workers N to use N worker threads';

/**
 * How many data-parallel worker threads to train `model` on. A number is taken as given; `'auto'`
 * uses `min(cores, batchSize / 8)` workers when the machine has more than one core, the backend is
 * wasm (which computes on one thread in Node), the batch gives each worker at least
 * {@link MIN_IMAGES_PER_WORKER} images, the run does not read a feature cache, a worker can rebuild
 * the backbone ({@link canRebuildInWorker}) and the run is long enough to pay for starting them
 * (estimated one-thread time ≥ {@link MIN_AUTO_WORKER_SECONDS}); else one thread. The line says which
 * and why.
 */
export async function chooseWorkers(model: PeftModel, options: WorkerChoiceOptions): Promise<WorkerChoice> {
  if (options.requested !== 'auto') {
    const n = options.requested;
    if (n > 1 && options.featureCache) return { workers: 1, line: `training on one thread: the run reads the feature cache (cheap steps); --no-cache trains from images on ${n} workers` };
    return { workers: n, line: n > 1 ? `training on ${n} worker threads (--workers ${n})` : 'training on one thread (--workers 1)' };
  }
  const cores = options.cores ?? availableParallelism();
  const one = (why: string): WorkerChoice => ({ workers: 1, line: `training on one thread (--workers auto: ${why}; ${ONE_THREAD})` });
  if (cores < 2) return one('this machine has one core');
  const backend = currentBackend()?.choice;
  if (backend !== 'wasm') return one(`the ${backend ?? 'current'} backend computes on its own threads or device`);
  if (options.featureCache) return one('the run reads the feature cache (cheap steps)');
  const workers = Math.min(cores, Math.floor(options.batchSize / MIN_IMAGES_PER_WORKER));
  if (workers < 2) return one(`batch ${options.batchSize} is under ${2 * MIN_IMAGES_PER_WORKER} images (${MIN_IMAGES_PER_WORKER} per worker)`);
  const config = adapterModelConfig(model).backbone;
  if (!canRebuildInWorker(config)) return one(`a worker cannot rebuild the ${String(config.arch)} backbone`);
  const seconds = (await estimateStepSeconds(model, options.batchSize)) * options.totalSteps;
  if (seconds < MIN_AUTO_WORKER_SECONDS) {
    return one(`a short run, ~${seconds.toFixed(1)} s on one thread, under the ${MIN_AUTO_WORKER_SECONDS} s that pay for starting workers`);
  }
  return { workers, line: `training on ${workers} worker threads (--workers auto; --workers 1 for one thread)` };
}
