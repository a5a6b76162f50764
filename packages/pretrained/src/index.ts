/** @vpeft/pretrained — small pre-trained backbones that install offline, with model cards. */
export { PRETRAINED_VIT_MNIST, MNIST_PRETRAIN_CLASSES, mnistToImages, loadPretrainedViTMnist, pretrainedWeightsPath, type PretrainedModel } from './vit-mnist';
export { pretrainedBackbones } from './register';
