import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError, ShapeMismatchError } from '../errors/errors';
import { readSafetensors, parseSafetensors } from '../io/safetensors';
import { resolveViTConfig, type ViTConfig, type ViTConfigName } from './config';
import { resamplePositionEmbedding } from './resample';
import { positionPrefix, ViT } from './vit';

/** A tensor as plain data: shape and float32 values (row-major). */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Weights in timm's names and PyTorch layouts: a `.safetensors` path, its bytes, or a map. */
export type TimmWeights = string | Uint8Array | Map<string, TensorData>;

/** Options for {@link loadViT}. */
export interface LoadViTOptions {
  /** A config name or object; when omitted, read from the checkpoint's metadata (`vpeft.config`). */
  config?: ViTConfigName | (Partial<ViTConfig> & { base?: ViTConfigName });
  weights: TimmWeights;
}

const IGNORED = /^(head|fc_norm|head_drop)\./;

function isLinearWeight(name: string): boolean {
  return /^blocks\.\d+\.(attn\.(qkv|proj)|mlp\.fc[12])\.weight$/.test(name);
}

/** Keys in a checkpoint that the backbone ignores (the classification head). */
export function isHeadKey(name: string): boolean {
  return IGNORED.test(name);
}

async function resolveWeights(weights: TimmWeights): Promise<{ tensors: Map<string, TensorData>; source: string; metadata?: Record<string, string> }> {
  if (typeof weights === 'string') {
    const file = await readSafetensors(weights);
    return { tensors: file.tensors, source: weights, metadata: file.metadata };
  }
  if (weights instanceof Uint8Array) {
    const file = parseSafetensors(weights, '<weights buffer>');
    return { tensors: file.tensors, source: '<weights buffer>', metadata: file.metadata };
  }
  return { tensors: weights, source: '<weights map>' };
}

/**
 * Loads a ViT from a timm checkpoint (`.safetensors`, PyTorch layouts): linear weights `[out, in]`
 * are transposed once to `[in, out]`, the patch projection OIHW to `[P·P·C, D]`; a position
 * embedding for another grid is resampled (bicubic, as timm). Missing or unexpected keys and
 * shape mismatches throw, naming the key. The checkpoint's `head.*` is ignored.
 */
export async function loadViT(options: LoadViTOptions): Promise<ViT> {
  const { tensors, source, metadata } = await resolveWeights(options.weights);
  let configInput = options.config;
  if (!configInput) {
    const fromMeta = metadata?.['vpeft.config'];
    if (!fromMeta) throw new FileFormatError(source, 'no `config` given and the checkpoint has no "vpeft.config" metadata; pass config (e.g. "vit_base_patch16_224")');
    configInput = JSON.parse(fromMeta) as ViTConfig;
  }
  const vit = new ViT(resolveViTConfig(configInput));
  try {
    assignTimmWeights(vit, tensors, source);
  } catch (error) {
    vit.dispose();
    throw error;
  }
  return vit;
}

/** Assigns timm-named weights to a ViT's variables (see {@link loadViT}). */
export function assignTimmWeights(vit: ViT, tensors: Map<string, TensorData>, source: string): void {
  const store = vit.parameters;
  const expected = new Set(store.names());
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k) && !isHeadKey(k));
  const missing = [...expected].filter((k) => !tensors.has(k));
  if (unexpected.length || missing.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} key(s): ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} key(s): ${unexpected.slice(0, 6).join(', ')}${unexpected.length > 6 ? ', ...' : ''}`);
    throw new FileFormatError(source, `does not match ${vit.config.name}: ${parts.join('; ')}`);
  }
  for (const name of expected) {
    const variable = store.variable(name);
    const value = toModelLayout(name, tensors.get(name)!, vit.config, source);
    if (!sameShape(value.shape, variable.shape)) {
      const shape = value.shape;
      value.dispose();
      throw new ShapeMismatchError(name, variable.shape, shape, source);
    }
    variable.assign(value);
    value.dispose();
  }
}

function toModelLayout(name: string, t: TensorData, config: ViTConfig, source: string): tf.Tensor {
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) throw new FileFormatError(source, `tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  return tf.tidy(() => {
    const raw = tf.tensor(t.data, t.shape, 'float32');
    if (name === 'patch_embed.proj.weight') {
      if (t.shape.length !== 4) throw new ShapeMismatchError(name, [config.embedDim, config.inChannels, config.patchSize, config.patchSize], t.shape, source);
      const [out, inC, kh, kw] = t.shape as [number, number, number, number];
      return tf.reshape(tf.transpose(raw, [2, 3, 1, 0]), [kh * kw * inC, out]);
    }
    if (isLinearWeight(name)) {
      if (t.shape.length !== 2) throw new ShapeMismatchError(name, ['out', 'in'] as unknown as number[], t.shape, source);
      return tf.transpose(raw);
    }
    if (name === 'pos_embed' && t.shape.length === 3) {
      const grid = config.imageSize / config.patchSize;
      const n = t.shape[1]! - positionPrefix(config);
      const g = Math.round(Math.sqrt(n));
      if (g * g === n && g !== grid) return resamplePositionEmbedding(raw as tf.Tensor3D, positionPrefix(config), grid, grid);
    }
    return raw;
  });
}

/**
 * The ViT's weights in timm's names and PyTorch layouts (inverse of {@link loadViT}), e.g. to
 * write merged weights with `writeSafetensors`.
 */
export function exportTimmWeights(vit: ViT): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  for (const p of vit.parameters.list()) {
    const value = tf.tidy(() => {
      const v = p.variable;
      if (p.name === 'patch_embed.proj.weight') {
        const { patchSize: ps, inChannels: c, embedDim: d } = vit.config;
        return tf.transpose(tf.reshape(v, [ps, ps, c, d]), [3, 2, 0, 1]);
      }
      if (isLinearWeight(p.name)) return tf.transpose(v);
      return v.clone();
    });
    out.set(p.name, { shape: value.shape.slice(), data: value.dataSync() as Float32Array });
    value.dispose();
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
