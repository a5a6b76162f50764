import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadViT, type ViT } from '@vpeft/core';
import { PRETRAINED_VIT_MNIST, type PretrainedModel } from './vit-mnist';

const requireHere = createRequire(import.meta.url);

/** Path of a shipped weights file. */
export function pretrainedWeightsPath(model: PretrainedModel = PRETRAINED_VIT_MNIST): string {
  return join(dirname(requireHere.resolve('@vpeft/pretrained/package.json')), 'weights', model.file);
}

/** Loads the shipped, pre-trained `vit_tiny_patch7_28_mnist04` backbone (offline). */
export async function loadPretrainedViTMnist(): Promise<ViT> {
  return loadViT({ config: PRETRAINED_VIT_MNIST.config, weights: pretrainedWeightsPath(PRETRAINED_VIT_MNIST) });
}
