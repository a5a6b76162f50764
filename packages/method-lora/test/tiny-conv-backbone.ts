import * as tf from '@tensorflow/tfjs-core';
import {
  hashSeed,
  identitySiteRunner,
  init,
  initialize,
  ParameterStore,
  type Backbone,
  type BackboneConfig,
  type BackboneForwardOptions,
  type SiteInfo,
} from '@vpeft/core';

/**
 * A hand-made CNN backbone for tests, written against the `conv` site contract (NHWC input,
 * kernelSize/strides/padding in SiteInfo, weights HWIO `[kh, kw, in, out]`): 8x8x3 input →
 * `conv1` 3x3 stride 2 "same" (3→6) → ReLU → `conv2` 3x3 stride 1 "valid" (6→8) → ReLU → global
 * average pool → features `[B, 8]`. Weights are seeded random (normal std 0.3), biases non-zero.
 */
export class TinyConvBackbone implements Backbone {
  readonly specificationVersion = 'v1' as const;
  readonly config: BackboneConfig = { arch: 'tiny-conv', name: 'tiny_conv_test' };
  readonly inputShape = [8, 8, 3] as const;
  readonly featureDim = 8;
  readonly parameters = new ParameterStore();
  private readonly siteList: SiteInfo[] = [
    { name: 'conv1', kind: 'conv', inFeatures: 3, outFeatures: 6, kernelSize: [3, 3], strides: [2, 2], padding: 'same', groups: 1, weight: 'conv1.weight', bias: 'conv1.bias' },
    { name: 'conv2', kind: 'conv', inFeatures: 6, outFeatures: 8, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', groups: 1, weight: 'conv2.weight', bias: 'conv2.bias' },
    { name: 'features', kind: 'features', dim: 8 },
  ];

  constructor(seed = 1) {
    for (const site of this.siteList.filter((s) => s.kind === 'conv')) {
      const shape = [site.kernelSize![0], site.kernelSize![1], site.inFeatures!, site.outFeatures!];
      this.parameters.create(site.weight!, initialize(init.normal(0, 0.3), shape, hashSeed(site.weight!, seed)), 'weight', 'backbone', false);
      this.parameters.create(site.bias!, initialize(init.normal(0, 0.1), [site.outFeatures!], hashSeed(site.bias!, seed)), 'bias', 'backbone', false);
    }
  }

  sites(): SiteInfo[] {
    return [...this.siteList];
  }

  forward(images: tf.Tensor4D, options: BackboneForwardOptions = {}): tf.Tensor2D {
    const sites = options.sites ?? identitySiteRunner;
    const conv = (site: SiteInfo, x: tf.Tensor4D) =>
      tf.relu(
        sites.run<'conv'>(site.name, x, (input) =>
          tf.tidy(() =>
            tf.add(
              tf.conv2d(input, this.parameters.variable(site.weight!) as tf.Tensor4D, site.strides as [number, number], site.padding!),
              this.parameters.variable(site.bias!),
            ) as tf.Tensor4D,
          ),
        ),
      ) as tf.Tensor4D;
    return tf.tidy(() => {
      const hidden = conv(this.siteList[1]!, conv(this.siteList[0]!, images));
      const pooled = tf.mean(hidden, [1, 2]) as tf.Tensor2D;
      return sites.run<'features'>('features', pooled, (t) => t);
    });
  }

  dispose(): void {
    this.parameters.dispose();
  }
}
