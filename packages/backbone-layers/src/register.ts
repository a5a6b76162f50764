import { defineBackbone, registerBackbone } from '@vpeft/core';
import { loadNsfwjsMobileNetV2 } from './nsfwjs-mobilenet';

/** `mobilenet_v2`, the pre-trained MobileNetV2 shipped in the nsfwjs npm package, as a registered backbone. */
export const layersBackbones = [
  defineBackbone({
    name: 'mobilenet_v2',
    description: 'pre-trained MobileNetV2 from the nsfwjs package (224x224, offline)',
    packageName: '@vpeft/backbone-layers',
    pretrained: true,
    load: () => loadNsfwjsMobileNetV2(),
  }),
];

for (const definition of layersBackbones) registerBackbone(definition);
