import { FileFormatError, OptionError, type TensorData } from '@vpeft/core';
import { CheckpointKeys } from '../checkpoint-keys';
import { reshape } from '../tensor-data';
import { configFromShapes, headsFor, squareSide, type ConvertedCheckpoint, type ReaderOptions } from './converted';

const LAYOUT = 'OpenAI/OpenCLIP ViT';

/** Options of {@link fromClip}. */
export interface ClipOptions extends ReaderOptions {
  /**
   * The MLP activation, which a checkpoint does not record: `'quick-gelu'` (default; OpenAI's CLIP and
   * OpenCLIP's `-quickgelu` models) or `'gelu'` (most OpenCLIP models trained by LAION).
   */
  activation?: 'gelu' | 'quick-gelu';
}

/**
 * An OpenAI CLIP / OpenCLIP checkpoint's image tower (`visual.*`; a file holding only the image tower,
 * without the prefix, is read too) → timm names, as timm's `vit_*_clip_*` models: `conv1` (no bias) →
 * `patch_embed.proj`, `class_embedding`/`positional_embedding` → `cls_token`/`pos_embed`, `ln_pre` →
 * `norm_pre`, `resblocks.N` (`attn.in_proj_*`, `mlp.c_fc`/`c_proj`) → `blocks.N`, `ln_post` → `norm`
 * (LayerNorm eps 1e-5). The projection `proj` is dropped: features are `ln_post` of the CLS token, the
 * image embedding before projection. The text tower and `logit_scale` are ignored.
 */
export function fromClip(tensors: ReadonlyMap<string, TensorData>, source: string, options: ClipOptions = {}): ConvertedCheckpoint {
  const prefix = tensors.has('visual.conv1.weight') ? 'visual.' : '';
  const keys = new CheckpointKeys(tensors, source, LAYOUT);
  const notes: string[] = [];
  const out = new Map<string, TensorData>();
  const conv = keys.take(`${prefix}conv1.weight`, [-1, -1, -1, -1]);
  const [d, channels, p] = conv.shape as [number, number, number, number];
  out.set('patch_embed.proj.weight', conv);
  out.set('cls_token', reshape(keys.take(`${prefix}class_embedding`, [d]), [1, 1, d]));
  const pos = keys.take(`${prefix}positional_embedding`, [-1, d]);
  const grid = squareSide(pos.shape[0]! - 1);
  if (!grid) throw new FileFormatError(source, `positional_embedding has ${pos.shape[0]} positions, not CLS + a square grid`);
  out.set('pos_embed', reshape(pos, [1, pos.shape[0]!, d]));
  out.set('norm_pre.weight', keys.take(`${prefix}ln_pre.weight`, [d]));
  out.set('norm_pre.bias', keys.take(`${prefix}ln_pre.bias`, [d]));
  const depth = keys.count(new RegExp(`^${prefix.replace('.', '\\.')}transformer\\.resblocks\\.(\\d+)\\.`));
  if (depth === 0) keys.take(`${prefix}transformer.resblocks.0.ln_1.weight`);
  const mlpDim = keys.take(`${prefix}transformer.resblocks.0.mlp.c_fc.weight`, [-1, d]).shape[0]!;
  const pairs: [string, string, number[]][] = [
    ['ln_1.weight', 'norm1.weight', [d]], ['ln_1.bias', 'norm1.bias', [d]],
    ['attn.in_proj_weight', 'attn.qkv.weight', [3 * d, d]], ['attn.in_proj_bias', 'attn.qkv.bias', [3 * d]],
    ['attn.out_proj.weight', 'attn.proj.weight', [d, d]], ['attn.out_proj.bias', 'attn.proj.bias', [d]],
    ['ln_2.weight', 'norm2.weight', [d]], ['ln_2.bias', 'norm2.bias', [d]],
    ['mlp.c_fc.weight', 'mlp.fc1.weight', [mlpDim, d]], ['mlp.c_fc.bias', 'mlp.fc1.bias', [mlpDim]],
    ['mlp.c_proj.weight', 'mlp.fc2.weight', [d, mlpDim]], ['mlp.c_proj.bias', 'mlp.fc2.bias', [d]],
  ];
  for (let i = 0; i < depth; i++) {
    for (const [from, to, shape] of pairs) out.set(`blocks.${i}.${to}`, keys.take(`${prefix}transformer.resblocks.${i}.${from}`, shape));
  }
  out.set('norm.weight', keys.take(`${prefix}ln_post.weight`, [d]));
  out.set('norm.bias', keys.take(`${prefix}ln_post.bias`, [d]));
  if (keys.has(`${prefix}proj`)) {
    keys.drop([`${prefix}proj`]);
    notes.push(`dropped the projection ${prefix}proj (features are ln_post of the CLS token, before projection)`);
  }
  // Everything outside the image tower (text tower, logit_scale) is not part of this backbone.
  keys.assertAllUsed(prefix ? /^(?!visual\.)/ : undefined);
  const activation = options.activation ?? 'quick-gelu';
  if (activation !== 'gelu' && activation !== 'quick-gelu') throw new OptionError('activation', activation, '"quick-gelu" (OpenAI CLIP) or "gelu" (most OpenCLIP models)', 'clip');
  notes.push(`MLP activation: ${activation}${options.activation ? '' : ' (OpenAI CLIP; pass gelu for OpenCLIP models trained with GELU)'}`);
  const config = configFromShapes(
    {
      imageSize: grid * p,
      patchSize: p,
      inChannels: channels,
      embedDim: d,
      depth,
      numHeads: headsFor(d, options.numHeads, 'clip'),
      mlpDim,
      layerNormEps: 1e-5,
      activation,
      preNorm: true,
      patchBias: false,
    },
    options.name,
    'clip',
  );
  return { config, tensors: out, notes };
}
