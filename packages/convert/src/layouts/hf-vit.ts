import { FileFormatError, OptionError, type TensorData } from '@vpeft/core';
import { CheckpointKeys } from '../checkpoint-keys';
import { concat0 } from '../tensor-data';
import { configFromShapes, headsFor, squareSide, type ConvertedCheckpoint, type ReaderOptions } from './converted';

const LAYOUT = 'Hugging Face transformers ViT';

/** The fields of a transformers `ViTConfig` (`config.json`) the reader uses. */
export interface HuggingFaceViTConfig {
  num_attention_heads?: number;
  layer_norm_eps?: number;
  hidden_act?: string;
  qkv_bias?: boolean;
}

/** Options of {@link fromHuggingFaceViT}. */
export interface HuggingFaceViTOptions extends ReaderOptions {
  /** The model's `config.json`: heads, LayerNorm eps (default 1e-12, transformers' default) and activation. */
  hfConfig?: HuggingFaceViTConfig;
}

/**
 * A transformers `ViTModel` / `ViTForImageClassification` checkpoint (`model.safetensors`, keys with
 * or without the `vit.` prefix) → timm names: separate `query`/`key`/`value` fused into `attn.qkv`,
 * `layernorm_before/after` → `norm1/2`, `intermediate.dense`/`output.dense` → `mlp.fc1/fc2`, `classifier`
 * → `head`. The pooler (dense + tanh, in the in21k checkpoints) is dropped: features are the final
 * LayerNorm's CLS token, as timm's.
 */
export function fromHuggingFaceViT(tensors: ReadonlyMap<string, TensorData>, source: string, options: HuggingFaceViTOptions = {}): ConvertedCheckpoint {
  const keys = new CheckpointKeys(tensors, source, LAYOUT);
  const hf = options.hfConfig ?? {};
  const prefix = keys.has('vit.embeddings.cls_token') ? 'vit.' : '';
  const notes: string[] = [];
  const out = new Map<string, TensorData>();
  const patch = keys.take(`${prefix}embeddings.patch_embeddings.projection.weight`, [-1, -1, -1, -1]);
  const [d, channels, p] = patch.shape as [number, number, number, number];
  out.set('patch_embed.proj.weight', patch);
  out.set('patch_embed.proj.bias', keys.take(`${prefix}embeddings.patch_embeddings.projection.bias`, [d]));
  out.set('cls_token', keys.take(`${prefix}embeddings.cls_token`, [1, 1, d]));
  const pos = keys.take(`${prefix}embeddings.position_embeddings`, [1, -1, d]);
  const grid = squareSide(pos.shape[1]! - 1);
  if (!grid) throw new FileFormatError(source, `position_embeddings has ${pos.shape[1]} positions, not CLS + a square grid`);
  out.set('pos_embed', pos);
  const qkvBias = hf.qkv_bias ?? keys.has(`${prefix}encoder.layer.0.attention.attention.query.bias`);
  const depth = keys.count(new RegExp(`^${prefix.replace('.', '\\.')}encoder\\.layer\\.(\\d+)\\.`));
  if (depth === 0) keys.take(`${prefix}encoder.layer.0.layernorm_before.weight`);
  const mlpDim = keys.take(`${prefix}encoder.layer.0.intermediate.dense.weight`, [-1, d]).shape[0]!;
  for (let i = 0; i < depth; i++) {
    const src = `${prefix}encoder.layer.${i}.`;
    const b = `blocks.${i}`;
    const qkv = ['query', 'key', 'value'];
    out.set(`${b}.norm1.weight`, keys.take(`${src}layernorm_before.weight`, [d]));
    out.set(`${b}.norm1.bias`, keys.take(`${src}layernorm_before.bias`, [d]));
    out.set(`${b}.attn.qkv.weight`, concat0(qkv.map((n) => keys.take(`${src}attention.attention.${n}.weight`, [d, d]))));
    if (qkvBias) out.set(`${b}.attn.qkv.bias`, concat0(qkv.map((n) => keys.take(`${src}attention.attention.${n}.bias`, [d]))));
    out.set(`${b}.attn.proj.weight`, keys.take(`${src}attention.output.dense.weight`, [d, d]));
    out.set(`${b}.attn.proj.bias`, keys.take(`${src}attention.output.dense.bias`, [d]));
    out.set(`${b}.norm2.weight`, keys.take(`${src}layernorm_after.weight`, [d]));
    out.set(`${b}.norm2.bias`, keys.take(`${src}layernorm_after.bias`, [d]));
    out.set(`${b}.mlp.fc1.weight`, keys.take(`${src}intermediate.dense.weight`, [mlpDim, d]));
    out.set(`${b}.mlp.fc1.bias`, keys.take(`${src}intermediate.dense.bias`, [mlpDim]));
    out.set(`${b}.mlp.fc2.weight`, keys.take(`${src}output.dense.weight`, [d, mlpDim]));
    out.set(`${b}.mlp.fc2.bias`, keys.take(`${src}output.dense.bias`, [d]));
  }
  out.set('norm.weight', keys.take(`${prefix}layernorm.weight`, [d]));
  out.set('norm.bias', keys.take(`${prefix}layernorm.bias`, [d]));
  if (keys.has('classifier.weight')) {
    out.set('head.weight', keys.take('classifier.weight', [-1, d]));
    out.set('head.bias', keys.take('classifier.bias', [-1]));
  }
  const dropped = [...tensors.keys()].filter((k) => k.startsWith(`${prefix}pooler.`) || k === `${prefix}embeddings.mask_token`);
  if (dropped.length) {
    keys.drop(dropped);
    notes.push(`dropped ${dropped.join(', ')} (features are the final LayerNorm's CLS token)`);
  }
  keys.assertAllUsed();
  const act = hf.hidden_act ?? 'gelu';
  if (act !== 'gelu' && act !== 'quick_gelu') throw new OptionError('hidden_act', act, '"gelu" or "quick_gelu" (vpeft\'s ViT has no other activations)', 'hf');
  const heads = headsFor(d, options.numHeads ?? hf.num_attention_heads, 'hf');
  if (!options.hfConfig) notes.push(`no config.json: assumed LayerNorm eps 1e-12 and ${heads} heads`);
  const config = configFromShapes(
    {
      imageSize: grid * p,
      patchSize: p,
      inChannels: channels,
      embedDim: d,
      depth,
      numHeads: heads,
      mlpDim,
      qkvBias,
      layerNormEps: hf.layer_norm_eps ?? 1e-12,
      activation: act === 'quick_gelu' ? 'quick-gelu' : 'gelu',
    },
    options.name,
    'hf',
  );
  return { config, tensors: out, notes };
}
