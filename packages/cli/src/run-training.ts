import { join } from 'node:path';
import { applyPeft, compose, type Backbone, type MethodInstance, type PeftModel } from '@vpeft/core';
import { backboneTransform, batchCount, batches, featureSource, type ImageTransform } from '@vpeft/datasets';
import {
  chooseWorkers,
  createDataParallelTrainer,
  evaluate,
  fit,
  prepareFeatureCache,
  type DataParallelTrainer,
  type EvaluationResult,
  type FeatureCacheOptions,
  type FitResult,
  type PreparedFeatureCache,
} from '@vpeft/train';
import { directoryBytes } from '@vpeft/bench';
import type { TaskData } from './data-spec';
import type { Output } from './output';
import { evalProgress, formatProgress } from './progress-line';
import { noteFreshResume } from './resume-note';
import type { SkipLog } from './skipped-images';
import { workerPluginsUrl } from './worker-plugins';

/** The training recipe the CLI exposes. */
export interface Recipe {
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  warmupEpochs: number;
  labelSmoothing: number;
  microBatch?: number;
  seed: number;
}

/** What one training run produced. */
export interface TrainingReport {
  label: string;
  trainableParams: number;
  trainableExcludingHead: number;
  percentOfBackbone: number;
  valTop1: number;
  testTop1: number;
  test: EvaluationResult;
  fit: FitResult;
  wallSeconds: number;
  adapterDir?: string;
  adapterBytes?: number;
}

/** `fit`'s options for a recipe: epochs, batch size, AdamW, cosine schedule with warm-up, label smoothing, seed. */
export function recipeFitOptions(recipe: Recipe) {
  return {
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    optimizer: { learningRate: recipe.learningRate, weightDecay: recipe.weightDecay },
    schedule: { type: 'cosine' as const, warmupEpochs: recipe.warmupEpochs, warmupStartLr: 1e-6, minLr: 1e-6 },
    labelSmoothing: recipe.labelSmoothing,
    seed: recipe.seed,
  };
}

/**
 * Applies `methods` to `backbone`, trains on `task.train` with best-on-validation selection
 * (val200), restores the best weights, scores `task.test`, and saves the adapter under `outDir`.
 */
export async function runTraining(
  label: string,
  backbone: Backbone,
  methods: MethodInstance<object>[],
  task: TaskData,
  recipe: Recipe,
  out: Output,
  options: { outDir?: string; resume?: boolean; workers?: number | 'auto'; skip?: SkipLog; cache?: FeatureCacheOptions | false } = {},
): Promise<{ report: TrainingReport; model: PeftModel }> {
  const model = applyPeft(backbone, methods.length ? compose(...methods) : [], { numClasses: task.numClasses, classNames: task.classNames, seed: recipe.seed });
  const summary = model.summary();
  const started = performance.now();
  const skip = options.skip?.batchOptions() ?? {};
  const trainTransform = backboneTransform(task.train, backbone, { train: true });
  const evalTransform = backboneTransform(task.val, backbone, { train: false });
  const cache = await featureCache(model, task, trainTransform, evalTransform, skip, out, label, options.cache);
  const [cachedTrain, cachedVal, cachedTest] = cache?.splits ?? [];
  let dataParallel: DataParallelTrainer | undefined;
  if (options.workers !== undefined) {
    // `vpeft train` says how many threads it trains on (and why); multi-task and demo runs stay on this one.
    const totalSteps = recipe.epochs * (cachedTrain?.trainData(recipe.batchSize).stepsPerEpoch ?? batchCount(task.train.samples.length, recipe.batchSize));
    const choice = await chooseWorkers(model, { requested: options.workers, batchSize: recipe.batchSize, totalSteps, featureCache: Boolean(cachedTrain) });
    out.note(choice.line);
    // Each worker rebuilds the model from its adapter config, with the CLI's plugins registered.
    if (choice.workers > 1) dataParallel = await createDataParallelTrainer(model, { imports: [workerPluginsUrl()], workers: choice.workers, microBatch: recipe.microBatch });
  }
  await noteFreshResume(out, options.outDir, options.resume);
  const result = await fit(
    model,
    cachedTrain?.trainData(recipe.batchSize) ?? {
      stepsPerEpoch: batchCount(task.train.samples.length, recipe.batchSize),
      batches: ({ epoch, seed }) => batches(task.train, { batchSize: recipe.batchSize, shuffle: true, seed, epoch, transform: trainTransform, ...skip }),
    },
    {
      ...recipeFitOptions(recipe),
      microBatch: recipe.microBatch,
      eval: cachedVal?.evalData(recipe.batchSize) ?? (() => batches(task.val, { batchSize: recipe.batchSize, transform: evalTransform, ...skip })),
      restoreBest: true,
      checkpointDir: options.outDir ? join(options.outDir, 'checkpoints') : undefined,
      resume: options.resume,
      onProgress: (event) => out.progress({ run: label, ...event }, () => formatProgress(label, event), { key: label, last: event.step === event.totalSteps }),
      evalImages: task.val.samples.length,
      onEvaluationProgress: evalProgress(out, `${label} val`),
      dataParallel,
    },
  ).catch(async (error: unknown) => {
    await dataParallel?.dispose();
    throw error;
  });
  const testBatch = Math.max(recipe.batchSize, 64);
  // The test split is scored on the workers too (with the restored best weights).
  const test = await evaluate(model, cachedTest?.evalData(testBatch)() ?? batches(task.test, { batchSize: testBatch, transform: evalTransform, ...skip }), {
    total: task.test.samples.length,
    onProgress: evalProgress(out, `${label} test`),
    ...(dataParallel ? { predict: dataParallel.predict } : {}),
  }).finally(() => dataParallel?.dispose());
  let adapterDir: string | undefined;
  let adapterBytes: number | undefined;
  if (options.outDir) {
    adapterDir = join(options.outDir, 'adapter');
    await model.saveAdapter(adapterDir);
    adapterBytes = await directoryBytes(adapterDir);
  }
  const report: TrainingReport = {
    label,
    trainableParams: summary.trainableTotal,
    trainableExcludingHead: summary.trainableExcludingHead,
    percentOfBackbone: (100 * summary.trainableTotal) / summary.backboneParams,
    valTop1: result.best?.top1 ?? Number.NaN,
    testTop1: test.top1,
    test,
    fit: result,
    wallSeconds: (performance.now() - started) / 1000,
    adapterDir,
    adapterBytes,
  };
  return { report, model };
}

/**
 * Fills the feature cache for the run's three splits when the model's frozen part and the pipeline
 * allow it (see `prepareFeatureCache`), and says in one line what was cached or why not.
 */
async function featureCache(
  model: PeftModel,
  task: TaskData,
  trainTransform: ImageTransform,
  evalTransform: ImageTransform,
  skip: ReturnType<SkipLog['batchOptions']> | Record<string, never>,
  out: Output,
  label: string,
  options: FeatureCacheOptions | false | undefined,
): Promise<PreparedFeatureCache | undefined> {
  if (options === false) {
    out.note('feature cache off (--no-cache)');
    return undefined;
  }
  const key = `${label}:cache`;
  const cache = await prepareFeatureCache(
    model,
    [featureSource(task.train, trainTransform, skip), featureSource(task.val, evalTransform, skip), featureSource(task.test, evalTransform, skip)],
    {
      ...options,
      onProgress: ({ split, done, total }) =>
        out.progress({ run: label, cache: split, done, total }, () => `${label} caching the frozen part's output for ${split}: ${done}/${total} images`, { key, last: done === total }),
    },
  );
  out.note(cache.line);
  return cache;
}

/** A markdown table of training reports. */
export function reportTable(reports: readonly TrainingReport[], backboneParams: number): string {
  const rows = reports.map((r) =>
    `| ${r.label} | ${r.trainableParams.toLocaleString('en-US')} (${r.percentOfBackbone.toFixed(2)}%) | ${(100 * r.valTop1).toFixed(2)} | ${(100 * r.testTop1).toFixed(2)} | ${r.fit.imagesPerSecond.toFixed(1)} | ${r.wallSeconds.toFixed(0)} s | ${r.adapterBytes !== undefined ? `${r.adapterBytes.toLocaleString('en-US')} B` : '-'} |`,
  );
  return [
    `| run | trainable params (% of ${backboneParams.toLocaleString('en-US')}) | val top-1 % | test top-1 % | train img/s | wall | adapter size |`,
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
