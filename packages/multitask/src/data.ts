import * as tf from '@tensorflow/tfjs-core';
import { batches, type ImageDataset, type ImageTransform } from '@vpeft/datasets';
import type { EpochContext, ImageBatch, TrainData } from '@vpeft/train';
import { planEpoch, type EpochPlanOptions } from './sampling';

/** A training batch of several tasks: `tasks[i]` names image i's task, `y[i]` is a class id of that task. */
export interface MultiTaskBatch extends ImageBatch {
  readonly tasks: readonly string[];
}

/** One task's training images: how many, and a loader of any of them as one batch. */
export interface TaskSource {
  /** Training images of the task. */
  readonly size: number;
  /** The images `indices` (into `0..size-1`), in that order, as one batch (the caller disposes it). */
  load(indices: readonly number[], context: EpochContext): Promise<ImageBatch>;
}

/** A {@link TaskSource} over an image dataset, preprocessed with `transform`. */
export function datasetTaskSource(dataset: ImageDataset, transform: ImageTransform): TaskSource {
  return {
    size: dataset.samples.length,
    async load(indices, { seed, epoch }) {
      const picked: ImageDataset = { ...dataset, samples: indices.map((i) => dataset.samples[i]!) };
      for await (const batch of batches(picked, { batchSize: indices.length, transform, seed, epoch })) {
        return { x: batch.x, y: batch.y };
      }
      throw new Error(`datasetTaskSource: no batch for ${indices.length} images of ${dataset.name}`);
    },
  };
}

/**
 * Mixed training batches: each epoch is planned by {@link planEpoch} (tasks drawn per slot, images
 * from each task's seeded stream); a batch holds each task's images together, tasks in `names` order.
 */
export function multiTaskTrainData(
  names: readonly string[],
  sources: readonly TaskSource[],
  plan: Omit<EpochPlanOptions, 'seed' | 'epoch' | 'sizes'>,
): TrainData<MultiTaskBatch> {
  const sizes = sources.map((s) => s.size);
  return {
    stepsPerEpoch: plan.stepsPerEpoch,
    async *batches(context) {
      for (const slots of planEpoch({ ...plan, sizes, seed: context.seed, epoch: context.epoch })) {
        const parts: ImageBatch[] = [];
        const tasks: string[] = [];
        try {
          for (let t = 0; t < names.length; t++) {
            const indices = slots.filter((s) => s.task === t).map((s) => s.index);
            if (!indices.length) continue;
            parts.push(await sources[t]!.load(indices, context));
            for (const _ of indices) tasks.push(names[t]!);
          }
          const x = parts.length === 1 ? parts[0]!.x : (tf.concat(parts.map((p) => p.x)) as tf.Tensor4D);
          const y = parts.length === 1 ? parts[0]!.y : (tf.concat(parts.map((p) => p.y)) as tf.Tensor1D);
          if (parts.length > 1) tf.dispose(parts.flatMap((p) => [p.x, p.y]));
          yield { x, y, tasks };
        } catch (error) {
          tf.dispose(parts.flatMap((p) => [p.x, p.y]));
          throw error;
        }
      }
    },
  };
}
