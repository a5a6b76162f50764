/**
 * @vpeft/backbone-layers for browsers (the `browser` export condition): the LayersModel backbone and
 * the MobileNetV2 loader from a tfjs model URL or IOHandler, with no `node:` module. The nsfwjs
 * model files are for the app to serve (in Node, `tfjsModelFiles` writes them); `mobilenet_v2` is not
 * registered here, as the registry's loader takes no URL.
 */
export { LayersModelBackbone, type LayersModelBackboneOptions, type LayersBackboneConfig } from './layers-backbone';
export { loadMobileNetV2, MOBILENET_V2 } from './mobilenet-v2';
