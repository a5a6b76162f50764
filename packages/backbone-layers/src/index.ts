/**
 * @vpeft/backbone-layers — run PEFT methods on functional tfjs LayersModels (Keras-converted CNNs),
 * including the pre-trained MobileNetV2 that installs offline with the `nsfwjs` npm package.
 */
export * from './browser';
export { loadNsfwjsMobileNetV2 } from './nsfwjs-mobilenet';
export { nsfwjsMobileNetV2Dir, readNsfwjsMobileNetV2, tfjsModelFiles, MOBILENET_V2_WEIGHTS_FILE, type NsfwjsModel } from './nsfwjs-files';
export { layersBackbones } from './register';
