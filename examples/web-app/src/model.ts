import * as tf from '@tensorflow/tfjs-core';
import {
  adapterFilesFromBlobs,
  adapterToFiles,
  applyPeft,
  getMethod,
  hashSeed,
  listMethods,
  mulberry32,
  parseAdapterConfig,
  peftModelFromFiles,
  ADAPTER_CONFIG_FILE,
  type AdapterFiles,
  type NamedBlob,
  type PeftModel,
} from '@vpeft/core';
import { fit, type EvaluationRecord, type ProgressEvent, type TrainBatch, type TrainData } from '@vpeft/train';
import type { BackboneChoice } from './backbones';
import type { TaskImage } from './data';

/** Each image's input per backbone, prepared once. */
const prepared = new WeakMap<TaskImage, Map<string, Float32Array>>();

/** The backbone's inputs for `images` (prepared on first use, then kept). */
export function inputsOf(backbone: BackboneChoice, images: readonly TaskImage[]): Float32Array[] {
  return images.map((image) => {
    let byBackbone = prepared.get(image);
    if (!byBackbone) prepared.set(image, (byBackbone = new Map()));
    let input = byBackbone.get(backbone.name);
    if (!input) byBackbone.set(backbone.name, (input = backbone.prepare(image.picture)));
    return input;
  });
}

/** The images as the backbone's input and their labels. */
export function toBatch(backbone: BackboneChoice, images: readonly TaskImage[]): TrainBatch {
  return { x: backbone.toInput(inputsOf(backbone, images)), y: tf.tensor1d(images.map((i) => i.label), 'int32') };
}

/** Training data: the images shuffled per epoch (a function of seed and epoch), in batches. */
export function trainData(backbone: BackboneChoice, images: readonly TaskImage[], batchSize: number): TrainData {
  return {
    stepsPerEpoch: Math.ceil(images.length / batchSize),
    async *batches({ epoch, seed }) {
      const random = mulberry32(hashSeed(`epoch ${epoch}`, seed));
      const order = images.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let start = 0; start < order.length; start += batchSize) yield toBatch(backbone, order.slice(start, start + batchSize).map((i) => images[i]!));
    },
  };
}

/** Whether a registered method applies to a backbone (with its default options), and why not. */
export interface MethodFit {
  name: string;
  applies: boolean;
  reason?: string;
}

/**
 * Tries every registered method, with its defaults, on a copy of the backbone (`applyPeft`, then
 * dispose): those that throw (MethodNotApplicableError on a CNN for token/attention methods) do not
 * apply, with the error's message as the reason.
 */
export async function methodsFor(backbone: BackboneChoice): Promise<MethodFit[]> {
  const base = await backbone.load();
  try {
    return listMethods().map((name) => {
      const definition = getMethod(name);
      try {
        applyPeft(base, definition.configure(definition.defaults), { numClasses: 2 }).dispose();
        return { name, applies: true };
      } catch (error) {
        return { name, applies: false, reason: (error as Error).message };
      }
    });
  } finally {
    base.dispose();
  }
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
    const result = await fit(model, trainData(request.backbone, request.train, request.batchSize), {
      epochs: request.epochs,
      optimizer: { learningRate: request.learningRate, weightDecay: 1e-4 },
      schedule: { type: 'cosine', warmupEpochs: 0 },
      eval: () => chunks(request.test, 32).map((part) => toBatch(request.backbone, part)),
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

/** The model's logits (inference mode), as rows, for inputs the backbone prepared. */
export async function logits(model: PeftModel, backbone: BackboneChoice, inputs: readonly ArrayLike<number>[]): Promise<number[][]> {
  const rows: number[][] = [];
  for (const part of chunks(inputs, 32)) {
    const x = backbone.toInput(part);
    const out = model.predict(x);
    rows.push(...((await out.array()) as number[][]));
    tf.dispose([x, out]);
  }
  return rows;
}

/** Predicted class and softmax probabilities per prepared input. */
export async function classify(model: PeftModel, backbone: BackboneChoice, inputs: readonly ArrayLike<number>[]): Promise<Array<{ label: number; probabilities: number[] }>> {
  return (await logits(model, backbone, inputs)).map((row) => {
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    const probabilities = exp.map((e) => e / sum);
    return { label: probabilities.indexOf(Math.max(...probabilities)), probabilities };
  });
}

/** Confusion matrix (`matrix[true][predicted]`) and accuracy on held-out images. */
export async function confusion(model: PeftModel, backbone: BackboneChoice, images: readonly TaskImage[]): Promise<{ matrix: number[][]; accuracy: number }> {
  const k = model.numClasses;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  const predictions = await classify(model, backbone, inputsOf(backbone, images));
  predictions.forEach((p, n) => {
    matrix[images[n]!.label]![p.label]!++;
    if (p.label === images[n]!.label) correct++;
  });
  return { matrix, accuracy: images.length ? correct / images.length : NaN };
}

/** The adapter as the two files `saveAdapter(dir)` writes in Node. */
export async function exportAdapter(model: PeftModel): Promise<AdapterFiles> {
  return (await adapterToFiles(model)).files;
}

/** Adapter files from picked files, or as kept in IndexedDB. */
export async function adapterFiles(source: Iterable<NamedBlob> | AdapterFiles): Promise<AdapterFiles> {
  return Symbol.iterator in source ? adapterFilesFromBlobs(source) : source;
}

/** The name of the backbone an adapter was made for (its config's `backbone.name`), if it says. */
export function adapterBackboneName(files: AdapterFiles): string | undefined {
  const name = parseAdapterConfig(new TextDecoder().decode(files[ADAPTER_CONFIG_FILE])).backbone.name;
  return typeof name === 'string' ? name : undefined;
}

/** Rebuilds a model from adapter files on a fresh copy of the backbone. */
export async function importAdapter(backbone: BackboneChoice, files: AdapterFiles): Promise<PeftModel> {
  const base = await backbone.load();
  try {
    return await peftModelFromFiles(base, files);
  } catch (error) {
    base.dispose();
    throw error;
  }
}
