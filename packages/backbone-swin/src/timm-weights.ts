import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError, parseSafetensors, readSafetensors, ShapeMismatchError, type TensorData, type TimmWeights } from '@vpeft/core';
import { resolveSwinConfig, type SwinConfig, type SwinConfigName } from './config';
import { Swin } from './swin';

/** Options for {@link loadSwin}. */
export interface LoadSwinOptions {
  /** A config name or object; when omitted, read from the checkpoint's metadata (`vpeft.config`). */
  config?: SwinConfigName | (Partial<SwinConfig> & { base?: SwinConfigName });
  weights: TimmWeights;
}

/** Checkpoint keys the backbone does not hold: the head, and buffers older timm versions saved. */
const IGNORED = /^head\.|\.relative_position_index$|\.attn_mask$/;

function isLinearWeight(name: string): boolean {
  return /\.(attn\.(qkv|proj)|mlp\.fc[12]|downsample\.reduction)\.weight$/.test(name);
}

/**
 * Loads a Swin Transformer from a timm checkpoint (`.safetensors`, timm ≥ 0.9 names, PyTorch layouts):
 * linear weights `[out, in]` are transposed once to `[in, out]`, the patch projection OIHW to
 * `[P·P·C, D]`. Missing or unexpected keys and shape mismatches throw, naming the key; `head.*` and the
 * `relative_position_index`/`attn_mask` buffers are ignored.
 */
export async function loadSwin(options: LoadSwinOptions): Promise<Swin> {
  const { weights } = options;
  const file = typeof weights === 'string' ? await readSafetensors(weights) : weights instanceof Uint8Array ? parseSafetensors(weights, '<weights buffer>') : undefined;
  const source = typeof weights === 'string' ? weights : weights instanceof Uint8Array ? '<weights buffer>' : '<weights map>';
  let config = options.config;
  if (!config) {
    const meta = file?.metadata?.['vpeft.config'];
    if (!meta) throw new FileFormatError(source, 'no `config` given and the checkpoint has no "vpeft.config" metadata; pass config (e.g. "swin_base_patch4_window7_224")');
    config = JSON.parse(meta) as SwinConfig;
  }
  const swin = new Swin(resolveSwinConfig(config), { initialize: 'zeros' });
  try {
    assignSwinWeights(swin, file ? file.tensors : (weights as Map<string, TensorData>), source);
  } catch (error) {
    swin.dispose();
    throw error;
  }
  return swin;
}

/** Assigns timm-named weights to a Swin's variables (see {@link loadSwin}). */
export function assignSwinWeights(swin: Swin, tensors: ReadonlyMap<string, TensorData>, source: string): void {
  const store = swin.parameters;
  const expected = new Set(store.names());
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k) && !IGNORED.test(k));
  const missing = [...expected].filter((k) => !tensors.has(k));
  if (unexpected.length || missing.length) {
    const list = (keys: string[]) => `${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', ...' : ''}`;
    const parts = [missing.length ? `missing ${missing.length} key(s): ${list(missing)}` : '', unexpected.length ? `unexpected ${unexpected.length} key(s): ${list(unexpected)}` : ''];
    throw new FileFormatError(source, `does not match ${swin.config.name}: ${parts.filter(Boolean).join('; ')}`);
  }
  for (const name of expected) {
    const variable = store.variable(name);
    const t = tensors.get(name)!;
    const value = tf.tidy(() => {
      const raw = tf.tensor(t.data, t.shape, 'float32');
      if (name === 'patch_embed.proj.weight' && t.shape.length === 4) {
        const [out, inC, kh, kw] = t.shape as [number, number, number, number];
        return tf.reshape(tf.transpose(raw, [2, 3, 1, 0]), [kh * kw * inC, out]);
      }
      return isLinearWeight(name) && t.shape.length === 2 ? tf.transpose(raw) : raw;
    });
    if (value.shape.length !== variable.shape.length || value.shape.some((s, i) => s !== variable.shape[i])) {
      const shape = value.shape;
      value.dispose();
      throw new ShapeMismatchError(name, variable.shape, shape, source);
    }
    variable.assign(value);
    value.dispose();
  }
}

/** The Swin's weights in timm's names and PyTorch layouts (inverse of {@link loadSwin}). */
export function exportSwinWeights(swin: Swin): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  const { patchSize: p, inChannels: c, embedDim: d } = swin.config;
  for (const param of swin.parameters.list()) {
    const value = tf.tidy(() => {
      if (param.name === 'patch_embed.proj.weight') return tf.transpose(tf.reshape(param.variable, [p, p, c, d]), [3, 2, 0, 1]);
      return isLinearWeight(param.name) ? tf.transpose(param.variable) : param.variable.clone();
    });
    out.set(param.name, { shape: value.shape.slice(), data: value.dataSync() as Float32Array });
    value.dispose();
  }
  return out;
}
