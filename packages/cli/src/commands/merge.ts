import * as tf from '@tensorflow/tfjs-core';
import { loadPeftModel, writeSafetensors, exportTimmWeights, ViT } from '@vpeft/core';
import { startBackend } from '../start-backend';
import { resolveBackbone } from '../backbones';
import { discoverPlugins } from '../plugins';
import { UsageError } from '../errors';
import type { Output } from '../output';

/** Options of `vpeft merge`. */
export interface MergeOptions {
  backbone: string;
  weights?: string;
  config?: string;
  adapter: string;
  out: string;
  backend?: string;
}

/**
 * `vpeft merge`: folds the adapter's mergeable methods into the backbone and writes the merged weights
 * as a timm-named `.safetensors` (with the head as `head.weight`/`head.bias`). Refuses when a method
 * cannot be merged (its modules would be lost).
 */
export async function mergeCommand(options: MergeOptions, out: Output): Promise<void> {
  await startBackend(options.backend);
  await discoverPlugins();
  const { backbone } = await resolveBackbone(options);
  if (!(backbone instanceof ViT)) throw new UsageError(`vpeft merge writes timm ViT checkpoints; backbone "${options.backbone}" is not a ViT`);
  const model = await loadPeftModel(backbone, options.adapter);
  const report = model.merge();
  if (report.kept.length) {
    throw new UsageError(`cannot merge ${report.kept.join(', ')}: these methods add modules that have no weight to fold into (merge supports LoRA, BitFit, LN-tune, partial and other reparameterisations)`);
  }
  const tensors = exportTimmWeights(backbone);
  for (const name of ['head.weight', 'head.bias']) {
    const v = model.parameters.variable(name);
    const data = (name === 'head.weight' ? tf.tidy(() => tf.transpose(v)) : v).dataSync() as Float32Array;
    tensors.set(name, { shape: name === 'head.weight' ? [v.shape[1]!, v.shape[0]!] : v.shape.slice(), data });
  }
  await writeSafetensors(options.out, tensors, { 'vpeft.config': JSON.stringify(backbone.config), 'vpeft.merged': report.merged.join(',') });
  out.result({ out: options.out, merged: report.merged, tensors: tensors.size }, () => `merged ${report.merged.join(', ')} into ${options.out} (${tensors.size} tensors, timm names)`);
  model.dispose({ backbone: true });
}
