import * as tf from '@tensorflow/tfjs-core';
import { inputBatchSize, inputTensors, OptionError, VpeftError, type PeftModel } from '@vpeft/core';
import { AdamW } from './adamw';
import { checkpointStore, type CheckpointStore } from './checkpoint-store';
import type { TrainBatch, TrainData, TrainableModel } from './data';
import { CheckpointError, NonFiniteLossError } from './errors';
import { evaluate } from './evaluate';
import { clipByGlobalNorm, parallelTrainingGradients, trainingGradients, type TrainingGradients } from './gradients';
import { resolveFitOptions, type EvaluatorResult, type FitOptions, type ResolvedFitOptions } from './options';
import { ThroughputMeter } from './progress';
import { settingsDifferences, type EvaluationRecord, type RunSettings, type TrainerState } from './run-state';
import { learningRateAt, resolveSchedule } from './schedule';
import { decaysWeight } from './weight-decay';

/** What {@link fit} returns. */
export interface FitResult {
  /** Optimizer steps completed in total (including those before a resume). */
  steps: number;
  /** Loss of the last step, null if no step ran. */
  finalLoss: number | null;
  /** Every evaluation, in order (including those before a resume). */
  evaluations: EvaluationRecord[];
  /** The best evaluation (highest top-1; the earliest on ties), null without `eval`. */
  best: EvaluationRecord | null;
  /** The step a resumed run continued from, null when it started fresh. */
  resumedFromStep: number | null;
  /** `checkpointDir/last`, when checkpointing. */
  lastCheckpointDir?: string;
  /** `checkpointDir/best`, when checkpointing with `eval`. */
  bestAdapterDir?: string;
  /** Training throughput of this call, images per second of step time. */
  imagesPerSecond: number;
  /** Peak tensor memory of this call in bytes (see {@link ProgressEvent.peakMemoryBytes}). */
  peakMemoryBytes: number;
}

/**
 * Trains a model's trainable parameters (methods, head and any unfrozen backbone parameters) with
 * AdamW (decoupled weight decay on weights only), a per-step learning-rate schedule, label-smoothed
 * cross-entropy, optional gradient clipping and micro-batching; evaluates on held-out data, keeps
 * the best adapter, checkpoints atomically and resumes exactly.
 *
 * Batches are owned by the trainer once yielded: each is disposed after its step. A NaN/Inf loss
 * throws {@link NonFiniteLossError} before that step's update and leaves the last checkpoint as is.
 * Resuming reproduces an uninterrupted run when the data order depends only on `(seed, epoch)` and
 * the model has no unseeded randomness in training mode (tfjs's dropout/drop-path draw from
 * `Math.random`, so runs with drop-path > 0 or dropout resume with equal schedule but not equal bits).
 */
export async function fit<B extends TrainBatch = TrainBatch>(model: TrainableModel, train: TrainData<B>, options: FitOptions<B>): Promise<FitResult> {
  const o = resolveFitOptions(options);
  const needsPeftModel = (!o.stepGradients && 'a stepGradients function') || (o.eval !== undefined && !o.evaluator && 'an evaluator');
  if (needsPeftModel && !isPeftModel(model)) throw new VpeftError(`fit: the model is not a PeftModel; give ${needsPeftModel} for it`);
  if (!train || typeof train.batches !== 'function') throw new OptionError('train', train, '{ stepsPerEpoch, batches(context) }', 'fit');
  if (!Number.isInteger(train.stepsPerEpoch) || train.stepsPerEpoch < 1) throw new OptionError('train.stepsPerEpoch', train.stepsPerEpoch, 'a positive integer', 'fit');
  const parameters = model.trainableParameters();
  if (parameters.length === 0) throw new VpeftError('fit: the model has no trainable parameters');
  const checkpoints = o.checkpointDir === undefined ? undefined : { dir: o.checkpointDir, store: checkpointStore() };
  const settings = runSettings(o, train.stepsPerEpoch);
  const optimizer = new AdamW(
    parameters.map((p) => ({ name: p.name, variable: p.variable, decay: decaysWeight(p, o.optimizer.noWeightDecay) })),
    o.optimizer,
  );
  const meter = new ThroughputMeter();
  let best: Map<string, Float32Array> | undefined;
  try {
    let state: TrainerState = { format: 'vpeft-trainer-state', formatVersion: 1, step: 0, epoch: 0, batchesDoneInEpoch: 0, lastLoss: null, settings, best: null, evaluations: [] };
    let resumedFromStep: number | null = null;
    if (o.resume && checkpoints) {
      await checkpoints.store.removeStaleTemporaries(checkpoints.dir);
      const loaded = await checkpoints.store.loadCheckpoint(checkpoints.dir, model, optimizer);
      if (loaded) {
        const differences = settingsDifferences(loaded.settings, settings);
        if (differences.length) throw new CheckpointError(`cannot resume from ${o.checkpointDir}: the run's settings differ: ${differences.join('; ')}`);
        state = loaded;
        resumedFromStep = loaded.step;
        if (loaded.best) best = await readBestSnapshot(checkpoints.store, checkpoints.dir, model);
      }
    }
    let stepsThisRun = 0;
    for (let epoch = state.epoch; epoch < o.epochs; epoch++) {
      const skip = epoch === state.epoch ? state.batchesDoneInEpoch : 0;
      let index = 0;
      for await (const batch of train.batches({ epoch, seed: o.seed, ...(o.batchSize ? { batchSize: o.batchSize } : {}) })) {
        if (index < skip) {
          tf.dispose([...inputTensors(batch.x), batch.y]);
          index++;
          continue;
        }
        if (index >= train.stepsPerEpoch) {
          tf.dispose([...inputTensors(batch.x), batch.y]);
          throw new VpeftError(`fit: epoch ${epoch} yielded more than stepsPerEpoch = ${train.stepsPerEpoch} batches; the schedule needs the true count`);
        }
        const lr = learningRateAt(settings.schedule, state.step);
        optimizer.learningRate = lr;
        const images = inputBatchSize(batch.x);
        const started = performance.now();
        let computed: TrainingGradients;
        try {
          computed = o.stepGradients
            ? await o.stepGradients(batch, { labelSmoothing: o.labelSmoothing })
            : o.dataParallel
              ? await parallelTrainingGradients(o.dataParallel, model as PeftModel, batch, { labelSmoothing: o.labelSmoothing })
              : await trainingGradients(model as PeftModel, batch, { labelSmoothing: o.labelSmoothing, microBatch: o.microBatch });
        } finally {
          tf.dispose([...inputTensors(batch.x), batch.y]);
        }
        let { grads } = computed;
        if (!Number.isFinite(computed.loss)) {
          tf.dispose(grads);
          throw new NonFiniteLossError(state.step, computed.loss, epoch);
        }
        let gradientNorm: number | undefined;
        if (o.gradientClip !== undefined) ({ grads, norm: gradientNorm } = await clipByGlobalNorm(grads, o.gradientClip));
        optimizer.applyGradients(grads);
        tf.dispose(grads);
        meter.record(images, (performance.now() - started) / 1000);
        stepsThisRun++;
        index++;
        state = { ...state, step: state.step + 1, epoch, batchesDoneInEpoch: index, lastLoss: computed.loss };
        if (checkpoints && o.checkpointEvery && state.step % o.checkpointEvery === 0 && index < train.stepsPerEpoch) {
          await checkpoints.store.saveCheckpoint(checkpoints.dir, model, optimizer, state, o.checkpointHooks);
        }
        await o.onProgress?.({
          step: state.step,
          totalSteps: settings.schedule.totalSteps,
          epoch,
          loss: computed.loss,
          lr,
          ...(gradientNorm !== undefined ? { gradientNorm } : {}),
          imagesPerSecond: meter.imagesPerSecond,
          etaSeconds: meter.etaSeconds(stepsThisRun, settings.schedule.totalSteps - state.step),
          ...meter.memory(computed.peakBytes),
        });
      }
      state = { ...state, epoch: epoch + 1, batchesDoneInEpoch: 0 };
      if ((o.eval !== undefined || o.evaluator) && ((epoch + 1) % o.evalEvery === 0 || epoch + 1 === o.epochs)) {
        const result: EvaluatorResult = o.evaluator ? await o.evaluator() : await evaluate(model as PeftModel, o.eval!, { batchSize: o.evalBatchSize, onProgress: o.onEvaluationProgress, total: o.evalImages, ...(o.dataParallel ? { predict: o.dataParallel.predict } : {}) });
        const record: EvaluationRecord = {
          epoch,
          step: state.step,
          top1: result.top1,
          loss: result.loss,
          perClass: result.perClass.map((a) => (Number.isNaN(a) ? null : a)),
          ...(result.perTask ? { perTask: result.perTask } : {}),
        };
        const isBest = state.best === null || record.top1 > state.best.top1;
        state = { ...state, evaluations: [...state.evaluations, record], best: isBest ? record : state.best };
        if (isBest) {
          best = await snapshotTrainable(model);
          if (checkpoints) await checkpoints.store.saveBestAdapter(checkpoints.dir, model, record);
        }
        await o.onEvaluation?.(record, isBest);
      }
      if (checkpoints) await checkpoints.store.saveCheckpoint(checkpoints.dir, model, optimizer, state, o.checkpointHooks);
    }
    if (o.restoreBest && best) restoreSnapshot(model, best);
    const memory = meter.memory();
    return {
      steps: state.step,
      finalLoss: state.lastLoss,
      evaluations: state.evaluations,
      best: state.best,
      resumedFromStep,
      ...(checkpoints ? { lastCheckpointDir: await checkpoints.store.lastCheckpointDirectory(checkpoints.dir) } : {}),
      ...(checkpoints && state.best ? { bestAdapterDir: await checkpoints.store.bestAdapterDirectory(checkpoints.dir) } : {}),
      imagesPerSecond: meter.imagesPerSecond,
      peakMemoryBytes: memory.peakMemoryBytes,
    };
  } finally {
    optimizer.dispose();
  }
}

/** Whether `model` can be trained and scored by the default step and `evaluate` (structurally, so a PeftModel of another copy of core passes). */
function isPeftModel(model: TrainableModel): model is PeftModel {
  const m = model as Partial<PeftModel>;
  return typeof m.forward === 'function' && typeof m.predict === 'function' && typeof m.numClasses === 'number';
}

function runSettings<B extends TrainBatch>(o: ResolvedFitOptions<B>, stepsPerEpoch: number): RunSettings {
  const { learningRate, weightDecay, beta1, beta2, epsilon } = o.optimizer;
  return {
    seed: o.seed,
    epochs: o.epochs,
    stepsPerEpoch,
    labelSmoothing: o.labelSmoothing,
    gradientClip: o.gradientClip ?? null,
    optimizer: { learningRate, weightDecay, beta1, beta2, epsilon },
    schedule: resolveSchedule(o.schedule, learningRate, o.epochs, stepsPerEpoch),
    ...(o.extraSettings ? { extra: o.extraSettings } : {}),
  };
}

async function snapshotTrainable(model: TrainableModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of model.trainableParameters()) out.set(p.name, ((await p.variable.data()) as Float32Array).slice());
  return out;
}

function restoreSnapshot(model: TrainableModel, snapshot: Map<string, Float32Array>): void {
  for (const p of model.trainableParameters()) {
    const values = snapshot.get(p.name);
    if (!values) continue;
    tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape, 'float32')));
  }
}

/** The best adapter's trainable values: loaded into the model (its own format) and read back; the model keeps its current values. */
async function readBestSnapshot(store: CheckpointStore, checkpointDir: string, model: TrainableModel): Promise<Map<string, Float32Array> | undefined> {
  const dir = await store.bestAdapterDirectory(checkpointDir);
  if (!dir) return undefined;
  const current = await snapshotTrainable(model);
  await model.loadAdapter(dir);
  const best = await snapshotTrainable(model);
  restoreSnapshot(model, current);
  return best;
}
