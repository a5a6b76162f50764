import * as tf from '@tensorflow/tfjs-core';
import {
  adapterFilesFromBlobs,
  adapterToFiles,
  applyPeft,
  getMethod,
  hashSeed,
  loadViT,
  mulberry32,
  peftModelFromFiles,
  type AdapterFiles,
  type NamedBlob,
  type PeftModel,
  type ViT,
} from '@vpeft/core';
import { mnistToImages, PRETRAINED_VIT_MNIST } from '@vpeft/pretrained';
import { fit, type EvaluationRecord, type ProgressEvent, type TrainBatch, type TrainData } from '@vpeft/train';
import weightsUrl from '@vpeft/pretrained/weights/vit_tiny_patch7_28_mnist04.safetensors?url';
import type { TaskImage } from './data';

/** A pre-trained backbone the page offers: its name and how to load a fresh copy. */
export interface BackboneChoice {
  name: string;
  description: string;
  load(): Promise<ViT>;
}

let weights: Promise<Uint8Array> | undefined;

/** The shipped MNIST ViT; its weights (10.8 MB) are fetched once and parsed for each fresh copy. */
export const MNIST_VIT: BackboneChoice = {
  name: PRETRAINED_VIT_MNIST.config.name as string,
  description: PRETRAINED_VIT_MNIST.description,
  async load() {
    weights ??= fetch(weightsUrl).then(async (response) => {
      if (!response.ok) throw new Error(`fetching the backbone weights failed: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    return loadViT({ config: PRETRAINED_VIT_MNIST.config, weights: await weights });
  },
};

/** The images as the ViT's input and their labels. */
export function toBatch(images: readonly TaskImage[]): TrainBatch {
  return { x: mnistToImages(images.map((i) => i.pixels)), y: tf.tensor1d(images.map((i) => i.label), 'int32') };
}

/** Training data: the images shuffled per epoch (a function of seed and epoch), in batches. */
export function trainData(images: readonly TaskImage[], batchSize: number): TrainData {
  return {
    stepsPerEpoch: Math.ceil(images.length / batchSize),
    async *batches({ epoch, seed }) {
      const random = mulberry32(hashSeed(`epoch ${epoch}`, seed));
      const order = images.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let start = 0; start < order.length; start += batchSize) yield toBatch(order.slice(start, start + batchSize).map((i) => images[i]!));
    },
  };
}

/** What a training run asks for. */
export interface TrainRequest {
  backbone: BackboneChoice;
  method: string;
  options: Record<string, unknown>;
  classNames: string[];
  train: readonly TaskImage[];
  test: readonly TaskImage[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  onProgress(event: ProgressEvent): void;
  onEvaluation(record: EvaluationRecord): void;
}

/** Builds the model (method on a fresh backbone copy, new head) and fine-tunes it with vpeft's trainer. */
export async function trainModel(request: TrainRequest): Promise<{ model: PeftModel; imagesPerSecond: number }> {
  const backbone = await request.backbone.load();
  const model = applyPeft(backbone, getMethod(request.method).configure(request.options), { numClasses: request.classNames.length, classNames: request.classNames, seed: 0 });
  try {
    const result = await fit(model, trainData(request.train, request.batchSize), {
      epochs: request.epochs,
      optimizer: { learningRate: request.learningRate, weightDecay: 1e-4 },
      schedule: { type: 'cosine', warmupEpochs: 0 },
      eval: () => chunks(request.test, 64).map(toBatch),
      onProgress: request.onProgress,
      onEvaluation: request.onEvaluation,
    });
    return { model, imagesPerSecond: result.imagesPerSecond };
  } catch (error) {
    model.dispose({ backbone: true });
    throw error;
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The model's logits for `images` (inference mode), as rows. */
export async function logits(model: PeftModel, pixels: readonly ArrayLike<number>[]): Promise<number[][]> {
  const x = mnistToImages(pixels);
  const out = model.predict(x);
  const rows = (await out.array()) as number[][];
  tf.dispose([x, out]);
  return rows;
}

/** Predicted class and softmax probabilities per image. */
export async function classify(model: PeftModel, pixels: readonly ArrayLike<number>[]): Promise<Array<{ label: number; probabilities: number[] }>> {
  return (await logits(model, pixels)).map((row) => {
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    const probabilities = exp.map((e) => e / sum);
    return { label: probabilities.indexOf(Math.max(...probabilities)), probabilities };
  });
}

/** Confusion matrix (`matrix[true][predicted]`) and accuracy on held-out images. */
export async function confusion(model: PeftModel, images: readonly TaskImage[]): Promise<{ matrix: number[][]; accuracy: number }> {
  const k = model.numClasses;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (const part of chunks(images, 64)) {
    const predictions = await classify(
      model,
      part.map((i) => i.pixels),
    );
    predictions.forEach((p, n) => {
      matrix[part[n]!.label]![p.label]!++;
      if (p.label === part[n]!.label) correct++;
    });
  }
  return { matrix, accuracy: images.length ? correct / images.length : NaN };
}

/** The adapter as the two files `saveAdapter(dir)` writes in Node. */
export async function exportAdapter(model: PeftModel): Promise<AdapterFiles> {
  return (await adapterToFiles(model)).files;
}

/** Rebuilds a model from adapter files (picked by the user, or kept in IndexedDB) on a fresh copy of the backbone. */
export async function importAdapter(backbone: BackboneChoice, source: Iterable<NamedBlob> | AdapterFiles): Promise<PeftModel> {
  const files = Symbol.iterator in source ? await adapterFilesFromBlobs(source) : source;
  const base = await backbone.load();
  try {
    return await peftModelFromFiles(base, files);
  } catch (error) {
    base.dispose();
    throw error;
  }
}
