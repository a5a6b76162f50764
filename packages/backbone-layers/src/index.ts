/**
 * @vpeft/backbone-layers — run PEFT methods on functional tfjs LayersModels (Keras-converted CNNs),
 * including the pre-trained MobileNetV2 that installs offline with the `nsfwjs` npm package.
 */
export { LayersModelBackbone, type LayersModelBackboneOptions, type LayersBackboneConfig } from './layers-backbone';
export { loadNsfwjsMobileNetV2 } from './nsfwjs-mobilenet';
export { layersBackbones } from './register';
