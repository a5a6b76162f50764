/** @vpeft/pretrained — small pre-trained backbones that install offline, with model cards. */
export * from './browser';
export { loadPretrainedViTMnist, pretrainedWeightsPath } from './weights-path';
export { pretrainedBackbones } from './register';
