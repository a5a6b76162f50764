import * as tf from '@tensorflow/tfjs-core';
import { loadMobileNetV2, MOBILENET_V2 } from '@vpeft/backbone-layers';
import { loadViT, type Backbone } from '@vpeft/core';
import { backboneTransform } from '@vpeft/datasets';
import { mnistToImages, PRETRAINED_VIT_MNIST } from '@vpeft/pretrained';
import weightsUrl from '@vpeft/pretrained/weights/vit_tiny_patch7_28_mnist04.safetensors?url';
import modelUrl from 'virtual:mobilenet-v2-model';
import { toGrey28, toRgb } from './preprocess';

/** A pre-trained backbone the page offers: how to load a fresh copy, and how it wants its images. */
export interface BackboneChoice {
  /** The backbone's config name (what adapters record). */
  name: string;
  /** For the picker. */
  label: string;
  description: string;
  /** One image as the backbone's input, flattened (HWC). */
  prepare(source: CanvasImageSource): Float32Array;
  /** Prepared images as the backbone's input batch. */
  toInput(inputs: readonly ArrayLike<number>[]): tf.Tensor4D;
  load(): Promise<Backbone>;
}

let vitWeights: Promise<Uint8Array> | undefined;

/** The shipped MNIST ViT; its weights (10.8 MB) are fetched once and parsed for each fresh copy. */
export const MNIST_VIT: BackboneChoice = {
  name: PRETRAINED_VIT_MNIST.config.name as string,
  label: 'MNIST ViT',
  description: PRETRAINED_VIT_MNIST.description,
  prepare: toGrey28,
  toInput: (inputs) => mnistToImages(inputs),
  async load() {
    vitWeights ??= fetch(weightsUrl).then(async (response) => {
      if (!response.ok) throw new Error(`fetching the backbone weights failed: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    return loadViT({ config: PRETRAINED_VIT_MNIST.config, weights: await vitWeights });
  },
};

/**
 * The MobileNetV2's input transform: the VTAB pipeline at its input size, normalised as it declares
 * ([0, 1]) — the same `backboneTransform` that `vpeft train`/`eval`/`bench` build from the loaded backbone.
 */
const MOBILENET_TRANSFORM = backboneTransform({ pipeline: 'vtab' }, MOBILENET_V2, { train: false });

let mobileNetArtifacts: Promise<tf.io.ModelArtifacts> | undefined;

/**
 * The nsfwjs MobileNetV2, served by the app (`model.json` + one 3.5 MB uint8 shard); fetched once,
 * then each fresh copy is built from memory.
 */
export const MOBILENET: BackboneChoice = {
  name: MOBILENET_V2.name,
  label: `MobileNetV2 (nsfwjs, ${MOBILENET_V2.inputShape[0]}x${MOBILENET_V2.inputShape[1]})`,
  description:
    'MobileNetV2 (alpha 1.0) from the nsfwjs npm package: ImageNet weights fine-tuned by the nsfwjs authors, uint8-quantised; its 5-class head dropped (1280-d features). Images become 224x224 RGB in [0, 1]. A CNN: methods that need tokens or attention do not apply.',
  prepare: (source) => toRgb(source, MOBILENET_TRANSFORM),
  toInput: (inputs) => {
    const size = MOBILENET_TRANSFORM.height * MOBILENET_TRANSFORM.width * 3;
    const flat = new Float32Array(inputs.length * size);
    inputs.forEach((input, i) => flat.set(input, i * size));
    return tf.tensor4d(flat, [inputs.length, MOBILENET_TRANSFORM.height, MOBILENET_TRANSFORM.width, 3]);
  },
  async load() {
    mobileNetArtifacts ??= tf.io.browserHTTPRequest(modelUrl).load!();
    return loadMobileNetV2(tf.io.fromMemory(await mobileNetArtifacts));
  },
};

/** The backbones the page offers, in the picker's order. */
export const BACKBONES: readonly BackboneChoice[] = [MNIST_VIT, MOBILENET];
