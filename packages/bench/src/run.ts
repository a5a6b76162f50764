import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, type Backbone, type PeftModel } from '@vpeft/core';
import { backboneTransform, batchCount, batches, featureSource, type ImageDataset } from '@vpeft/datasets';
import { evaluate, fit, prepareFeatureCache, type CachedSplit, type FeatureCacheOptions, type FitResult, type ProgressEvent } from '@vpeft/train';
import type { HyperParameters, HyperPoint } from './hyper';
import { configureVariant, type MethodVariant } from './methods';
import type { TaskData } from './tasks';

/** One training run of a cell: a method variant on a backbone, one hyper-parameter point, one seed. */
export interface RunRequest {
  backbone: Backbone;
  method: MethodVariant;
  task: TaskData;
  /** The data trained on (train800, or train800val200 for the final run). */
  train: ImageDataset;
  point: HyperPoint;
  hyper: HyperParameters;
  seed: number;
  /** Scored after the last epoch only (`'last'`) or after every epoch (`'every'`: best over checkpoints). */
  eval?: { data: ImageDataset; when: 'last' | 'every' };
  /** Splits scored after training (`RunOutcome.score`): cached with the others. */
  scored?: ImageDataset[];
  /** The feature cache (default on, where the model's frozen part and the pipeline allow it); false: off. */
  cache?: FeatureCacheOptions | false;
  /** The feature cache's line: what it cached or why not. */
  onNote?: (line: string) => void;
  onProgress?: (event: ProgressEvent) => void;
}

/** What a run leaves: the trained model (caller disposes via `release`) and the trainer's result. */
export interface RunOutcome {
  model: PeftModel;
  fit: FitResult;
  wallSeconds: number;
  /** Top-1 of the trained model on `dataset` (from the feature cache when it was given in `scored`). */
  score(dataset: ImageDataset): Promise<number>;
  /** Frees the run's variables and puts back any backbone parameters a partial-based method trained. */
  release(): void;
}

function evalBatches(dataset: ImageDataset, backbone: Backbone, batchSize: number, cached?: CachedSplit) {
  if (cached) return cached.evalData(Math.max(batchSize, 64));
  const transform = backboneTransform(dataset, backbone, { train: false });
  return () => batches(dataset, { batchSize: Math.max(batchSize, 64), transform });
}

/**
 * Trains one run with `@vpeft/train`'s `fit`: AdamW, cosine schedule with linear warm-up, label
 * smoothing, the dataset's benchmark transform. Backbone parameters that a partial-based method
 * (BitFit, LN-tune) trains are snapshotted first and restored by `release()`, so every cell starts
 * from the same pre-trained weights whatever ran before it (sharded and unsharded grids agree).
 */
export async function trainRun(request: RunRequest): Promise<RunOutcome> {
  const { backbone, task, train, point, hyper, seed } = request;
  const model = applyPeft(backbone, configureVariant(request.method), { numClasses: task.numClasses, classNames: task.classNames, seed });
  const touched = model.trainableParameters().filter((p) => p.owner === 'backbone');
  const saved = touched.map((p) => tf.clone(p.variable));
  const release = () => {
    touched.forEach((p, i) => p.variable.assign(saved[i]!));
    tf.dispose(saved);
    model.dispose();
  };
  const trainTransform = backboneTransform(train, backbone, { train: true });
  const started = performance.now();
  try {
    const held = [...(request.eval ? [request.eval.data] : []), ...(request.scored ?? [])];
    const cache =
      request.cache === false
        ? undefined
        : await prepareFeatureCache(model, [featureSource(train, trainTransform), ...held.map((d) => featureSource(d, backboneTransform(d, backbone, { train: false })))], request.cache);
    if (cache) request.onNote?.(cache.line);
    const cachedOf = (dataset: ImageDataset) => cache?.splits?.[1 + held.indexOf(dataset)];
    const cachedTrain = cache?.splits?.[0];
    const result = await fit(
      model,
      cachedTrain?.trainData(hyper.batchSize) ?? {
        stepsPerEpoch: batchCount(train.samples.length, hyper.batchSize),
        batches: ({ epoch, seed: s }) => batches(train, { batchSize: hyper.batchSize, shuffle: true, seed: s, epoch, transform: trainTransform }),
      },
      {
        epochs: point.epochs,
        batchSize: hyper.batchSize,
        optimizer: { learningRate: point.lr, weightDecay: point.weightDecay },
        schedule: { type: 'cosine', warmupEpochs: hyper.warmupEpochs, warmupStartLr: 1e-6, minLr: 1e-6 },
        labelSmoothing: hyper.labelSmoothing,
        ...(hyper.microBatch ? { microBatch: hyper.microBatch } : {}),
        seed,
        ...(request.eval ? { eval: evalBatches(request.eval.data, backbone, hyper.batchSize, cachedOf(request.eval.data)), evalEvery: request.eval.when === 'every' ? 1 : point.epochs } : {}),
        onProgress: request.onProgress,
      },
    );
    const score = async (dataset: ImageDataset) => (await evaluate(model, evalBatches(dataset, backbone, hyper.batchSize, held.includes(dataset) ? cachedOf(dataset) : undefined))).top1;
    return { model, fit: result, wallSeconds: (performance.now() - started) / 1000, score, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** Test (or any split's) top-1 of a trained model, with the benchmark's eval transform. */
export async function scoreSplit(model: PeftModel, backbone: Backbone, dataset: ImageDataset, batchSize: number): Promise<number> {
  return (await evaluate(model, evalBatches(dataset, backbone, batchSize))).top1;
}
