import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError, type BackboneConfig, type SiteInfo, type TensorData } from '@vpeft/core';
import type { LoraFactorName } from '../parameter-names';

/** How PyTorch stores the module at a site: an `nn.Linear`, or an `nn.Conv2d` with its kernel. */
export type TorchModule =
  | { readonly kind: 'linear' }
  | { readonly kind: 'conv'; readonly kernel: readonly [number, number]; readonly inChannels: number };

/**
 * The PyTorch module behind a site. Conv sites are `nn.Conv2d`; the ViT's `patch_embed.proj` is a
 * linear site over flattened patches in vpeft but an `nn.Conv2d` (kernel = stride = patch) in timm.
 */
export function torchModuleAt(site: SiteInfo, backboneConfig: BackboneConfig): TorchModule {
  if (site.kind === 'conv') return { kind: 'conv', kernel: site.kernelSize!, inChannels: site.inFeatures! };
  if (backboneConfig.arch === 'vit' && site.name === 'patch_embed.proj') {
    const patch = backboneConfig.patchSize as number;
    return { kind: 'conv', kernel: [patch, patch], inChannels: backboneConfig.inChannels as number };
  }
  return { kind: 'linear' };
}

/**
 * The PyTorch shape of a LoRA factor stored in vpeft as `shape`: linear `lora_A` `[r, in]`,
 * `lora_B` `[out, r]`; conv `lora_A` `[r, in, kh, kw]`, `lora_B` `[out, r, 1, 1]`.
 */
export function torchShapeOf(shape: readonly number[], factor: LoraFactorName, module: TorchModule): number[] {
  if (module.kind === 'linear') return [shape[1]!, shape[0]!];
  const last = shape[shape.length - 1]!;
  if (factor === 'lora_A') return [last, module.inChannels, module.kernel[0], module.kernel[1]];
  const size = shape.reduce((a, b) => a * b, 1);
  return [last, size / last, 1, 1];
}

/** A vpeft LoRA factor in PyTorch's layout (see {@link torchShapeOf}). */
export function toTorchLayout(value: tf.Tensor, factor: LoraFactorName, module: TorchModule): TensorData {
  const converted = tf.tidy(() => {
    if (module.kind === 'linear') return tf.transpose(value);
    const torchShape = torchShapeOf(value.shape, factor, module);
    const hwio = factor === 'lora_A'
      ? [module.kernel[0], module.kernel[1], module.inChannels, torchShape[0]!]
      : [1, 1, torchShape[1]!, torchShape[0]!];
    return tf.transpose(tf.reshape(value, hwio), [3, 2, 0, 1]);
  });
  const out = { shape: converted.shape.slice(), data: converted.dataSync() as Float32Array };
  converted.dispose();
  return out;
}

/**
 * A PyTorch-layout LoRA factor as a tensor of vpeft's `shape`; throws a {@link ShapeMismatchError}
 * naming `key` when the stored shape is not the one this site needs.
 */
export function fromTorchLayout(data: TensorData, shape: readonly number[], factor: LoraFactorName, module: TorchModule, key: string, source: string): tf.Tensor {
  const expected = torchShapeOf(shape, factor, module);
  if (data.shape.join(',') !== expected.join(',')) throw new ShapeMismatchError(key, expected, data.shape, source);
  return tf.tidy(() => {
    const raw = tf.tensor(data.data, data.shape, 'float32');
    if (module.kind === 'linear') return tf.transpose(raw);
    return tf.reshape(tf.transpose(raw, [2, 3, 1, 0]), shape as number[]);
  });
}

/** PyTorch's shape of a DoRA magnitude over `out` channels: `[out]` (nn.Linear), `[1, out, 1, 1]` (nn.Conv2d), as PEFT stores it. */
export function magnitudeTorchShape(out: number, module: TorchModule): number[] {
  return module.kind === 'linear' ? [out] : [1, out, 1, 1];
}
