import * as tf from '@tensorflow/tfjs-core';
import { inputTensors, isFrozenOutput, type PeftModel } from '@vpeft/core';
import type { EvalData, TrainBatch } from './data';
import { smoothedCrossEntropySum } from './loss';

/** Metrics of {@link evaluate}. */
export interface EvaluationResult {
  /** Top-1 accuracy over all images, in [0, 1] (NaN when there are none). */
  top1: number;
  /** Accuracy per class id (NaN for classes with no images). */
  perClass: number[];
  /** Images per class id. */
  classCounts: number[];
  /** Mean cross-entropy (no label smoothing). */
  loss: number;
  /** Images evaluated. */
  count: number;
}

/** Reported through {@link EvaluateOptions.onProgress} after every scored batch. */
export interface EvaluationProgress {
  /** Images scored so far. */
  done: number;
  /** Images to score, when known ({@link EvaluateOptions.total}). */
  total?: number;
  /** Images per second so far (scoring time, data loading included). */
  imagesPerSecond: number;
  /** Estimated seconds left at that rate (NaN without `total`). */
  etaSeconds: number;
}

/** Options for {@link evaluate}. */
export interface EvaluateOptions {
  /** Splits each batch into chunks of this many images for the forward pass (bounded memory). */
  batchSize?: number;
  /** Called after every scored batch (throughput, ETA): evaluating thousands of images takes minutes. */
  onProgress?: (progress: EvaluationProgress) => void | Promise<void>;
  /** How many images the data hold, for the progress' ETA. */
  total?: number;
  /**
   * Computes a batch's logits instead of `model.predict`, e.g. a data-parallel trainer's `predict`
   * (the batch split over its worker threads). Used for image batches; cached frozen-part outputs
   * always go through `model.predict`.
   */
  predict?: (images: tf.Tensor4D) => Promise<tf.Tensor2D>;
}

/**
 * Scores a model on held-out data in inference mode (no dropout/drop-path): top-1 accuracy,
 * per-class accuracy and mean cross-entropy. One batch is alive at a time and each is disposed
 * after scoring (the caller hands ownership over), so memory does not grow with the data.
 */
export async function evaluate(model: PeftModel, data: EvalData, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const source = typeof data === 'function' ? data() : data;
  const correct = new Array<number>(model.numClasses).fill(0);
  const counts = new Array<number>(model.numClasses).fill(0);
  let lossSum = 0;
  let count = 0;
  const start = performance.now();
  for await (const batch of source as AsyncIterable<TrainBatch>) {
    try {
      const external = options.predict && !isFrozenOutput(batch.x) ? await options.predict(batch.x) : undefined;
      const [lossTensor, predictedTensor] = tf.tidy(() => {
        const logits = external ?? model.predict(batch.x, { batchSize: options.batchSize });
        return [smoothedCrossEntropySum(logits, batch.y, 0), tf.argMax(logits, 1)];
      });
      external?.dispose();
      const [lossValue, predicted, labels] = await Promise.all([lossTensor.data(), predictedTensor.data(), batch.y.data()]);
      tf.dispose([lossTensor, predictedTensor]);
      lossSum += lossValue[0]!;
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i]!;
        counts[label] = (counts[label] ?? 0) + 1;
        if (predicted[i] === label) correct[label] = (correct[label] ?? 0) + 1;
      }
      count += labels.length;
    } finally {
      tf.dispose([...inputTensors(batch.x), batch.y]);
    }
    if (options.onProgress) {
      const imagesPerSecond = count / Math.max((performance.now() - start) / 1000, 1e-9);
      const etaSeconds = options.total === undefined ? NaN : Math.max(options.total - count, 0) / imagesPerSecond;
      await options.onProgress({ done: count, ...(options.total === undefined ? {} : { total: options.total }), imagesPerSecond, etaSeconds });
    }
  }
  const hits = correct.reduce((a, b) => a + b, 0);
  return {
    top1: count ? hits / count : NaN,
    perClass: counts.map((n, k) => (n ? correct[k]! / n : NaN)),
    classCounts: counts,
    loss: count ? lossSum / count : NaN,
    count,
  };
}
