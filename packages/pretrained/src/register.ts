import { defineBackbone, registerBackbone } from '@vpeft/core';
import { PRETRAINED_VIT_MNIST } from './vit-mnist';
import { loadPretrainedViTMnist } from './weights-path';

/** `vit_tiny_patch7_28_mnist04`, the shipped pre-trained ViT, as a registered backbone. */
export const pretrainedBackbones = [
  defineBackbone({
    name: PRETRAINED_VIT_MNIST.config.name,
    description: 'pre-trained ViT (width 192, 6 blocks, 28x28) from @vpeft/pretrained, MNIST digits 0-4',
    packageName: '@vpeft/pretrained',
    pretrained: true,
    load: () => loadPretrainedViTMnist(),
  }),
];

for (const definition of pretrainedBackbones) registerBackbone(definition);
