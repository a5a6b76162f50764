/**
 * @vpeft/pretrained for browsers (the `browser` export condition): the backbones' configs and input
 * preprocessing, with no `node:` module. The weights ship as files (`@vpeft/pretrained/weights/<file>`,
 * e.g. imported with a bundler's `?url`); load them with `loadViT({ config, weights: bytes })`.
 */
export { PRETRAINED_VIT_MNIST, MNIST_PRETRAIN_CLASSES, mnistToImages, type PretrainedModel } from './vit-mnist';
