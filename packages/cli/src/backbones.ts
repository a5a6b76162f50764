import { existsSync } from 'node:fs';
import { createViT, loadViT, vitConfigs, type Backbone, type ViTConfigName } from '@vpeft/core';
import { UsageError } from './errors';

/** Backbones the CLI knows by name, with a line each for `--help`. */
export const NAMED_BACKBONES: Record<string, string> = {
  vit_tiny_patch7_28_mnist04: 'pre-trained ViT (width 192, 6 blocks, 28x28) from @vpeft/pretrained, MNIST digits 0-4',
  mobilenet_v2: 'pre-trained MobileNetV2 from the nsfwjs package (224x224, offline)',
  ...Object.fromEntries(Object.keys(vitConfigs).map((k) => [k, 'ViT config with random weights (pass --weights for a timm checkpoint)'])),
};

/** Options for {@link resolveBackbone}. */
export interface BackboneSpec {
  backbone: string;
  weights?: string;
  config?: string;
}

/**
 * Checks a backbone spec without loading anything (a known name, files that exist); throws the same
 * {@link UsageError} that {@link resolveBackbone} would.
 */
export function checkBackbone(spec: BackboneSpec): void {
  const { backbone: name, weights } = spec;
  if (name in NAMED_BACKBONES) {
    if (weights && !existsSync(weights)) throw new UsageError(`--weights ${weights}: no such file`);
    return;
  }
  if (name.endsWith('.safetensors')) {
    if (!existsSync(name)) throw new UsageError(`--backbone ${name}: no such file`);
    return;
  }
  throw new UsageError(`unknown backbone "${name}"; known: ${Object.keys(NAMED_BACKBONES).join(', ')}, or a path to a .safetensors checkpoint`);
}

/**
 * Makes the backbone named on the command line: `mobilenet_v2`, a ViT config name (random weights, or
 * a timm `.safetensors` checkpoint with `--weights`), or a path to a `.safetensors` checkpoint.
 */
export async function resolveBackbone(spec: BackboneSpec): Promise<{ backbone: Backbone; pretrained: boolean; description: string }> {
  const { backbone: name, weights } = spec;
  if (name === 'vit_tiny_patch7_28_mnist04') {
    const { loadPretrainedViTMnist } = await import('@vpeft/pretrained');
    return { backbone: await loadPretrainedViTMnist(), pretrained: true, description: NAMED_BACKBONES[name]! };
  }
  if (name === 'mobilenet_v2') {
    const { loadNsfwjsMobileNetV2 } = await import('@vpeft/backbone-layers');
    return { backbone: await loadNsfwjsMobileNetV2(), pretrained: true, description: NAMED_BACKBONES.mobilenet_v2! };
  }
  if (name in vitConfigs) {
    if (weights) {
      if (!existsSync(weights)) throw new UsageError(`--weights ${weights}: no such file`);
      return { backbone: await loadViT({ config: name as ViTConfigName, weights }), pretrained: true, description: `${name} from ${weights}` };
    }
    return { backbone: createViT(name as ViTConfigName), pretrained: false, description: `${name} (random weights)` };
  }
  if (name.endsWith('.safetensors')) {
    if (!existsSync(name)) throw new UsageError(`--backbone ${name}: no such file`);
    const config = spec.config as ViTConfigName | undefined;
    return { backbone: await loadViT({ config, weights: name }), pretrained: true, description: name };
  }
  throw new UsageError(`unknown backbone "${name}"; known: ${Object.keys(NAMED_BACKBONES).join(', ')}, or a path to a .safetensors checkpoint`);
}
