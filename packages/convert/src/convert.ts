import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FileFormatError, OptionError, readSafetensors, writeSafetensors, type TensorData } from '@vpeft/core';
import { fromBigVision } from './layouts/big-vision';
import { fromClip, type ClipOptions } from './layouts/clip';
import type { ConvertedCheckpoint } from './layouts/converted';
import { fromDinov2, type Dinov2Options } from './layouts/dinov2';
import { fromHuggingFaceViT, type HuggingFaceViTConfig } from './layouts/hf-vit';
import { readNpz } from './npz';

/** The checkpoint layouts `convertCheckpoint` reads. */
export const CHECKPOINT_LAYOUTS = ['npz', 'hf', 'dinov2', 'clip'] as const;

/** A layout name: `npz` (Google/big_vision), `hf` (transformers ViT), `dinov2`, `clip` (OpenAI/OpenCLIP). */
export type CheckpointLayout = (typeof CHECKPOINT_LAYOUTS)[number];

/** Options of {@link convertCheckpoint}; each applies to the layouts named. */
export interface ConvertOptions {
  /** Attention heads (dinov2, clip; hf without config.json). Default: width / 64. */
  numHeads?: number;
  /** dinov2: input size to interpolate the position embedding for. */
  imageSize?: Dinov2Options['imageSize'];
  /** clip: the MLP activation. */
  activation?: ClipOptions['activation'];
  /** hf: path to the model's `config.json`; default: `config.json` next to the checkpoint, when present. */
  hfConfig?: string;
  /** The config name to record. */
  name?: string;
}

/**
 * Reads a foreign ViT checkpoint and maps it to vpeft's internal layout (timm names, PyTorch layouts) with
 * its config. `npz` files are read entry by entry; the others are `.safetensors`.
 */
export async function convertCheckpoint(from: CheckpointLayout, path: string, options: ConvertOptions = {}): Promise<ConvertedCheckpoint> {
  if (!CHECKPOINT_LAYOUTS.includes(from)) throw new OptionError('from', from, CHECKPOINT_LAYOUTS.join(', '), 'convert');
  const common = { numHeads: options.numHeads, name: options.name };
  if (from === 'npz') return fromBigVision(await readNpz(path), path, common);
  const tensors = await readTensors(path);
  if (from === 'hf') return fromHuggingFaceViT(tensors, path, { ...common, hfConfig: readHfConfig(path, options.hfConfig) });
  if (from === 'dinov2') return fromDinov2(tensors, path, { ...common, imageSize: options.imageSize });
  return fromClip(tensors, path, { ...common, activation: options.activation });
}

async function readTensors(path: string): Promise<Map<string, TensorData>> {
  if (!path.endsWith('.safetensors')) throw new FileFormatError(path, 'expected a .safetensors file (convert a PyTorch .pt/.bin first with safetensors.torch.save_file(state_dict, path))');
  return (await readSafetensors(path)).tensors;
}

function readHfConfig(checkpoint: string, given: string | undefined): HuggingFaceViTConfig | undefined {
  const path = given ?? join(dirname(checkpoint), 'config.json');
  if (!existsSync(path)) {
    if (given) throw new FileFormatError(given, 'no such file (the model\'s config.json)');
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as HuggingFaceViTConfig;
  } catch (error) {
    throw new FileFormatError(path, `not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Writes a converted checkpoint as timm-named `.safetensors` (atomically), with the config in the
 * `vpeft.config` metadata so `loadViT({ weights })` and every `vpeft` command load it by path.
 */
export async function writeConverted(path: string, converted: ConvertedCheckpoint, source?: string): Promise<void> {
  const metadata: Record<string, string> = { format: 'pt', 'vpeft.config': JSON.stringify(converted.config) };
  if (source) metadata['vpeft.source'] = source;
  await writeSafetensors(path, converted.tensors, metadata);
}
