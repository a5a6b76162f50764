import { FileFormatError, OptionError, type TensorData } from '@vpeft/core';
import { CheckpointKeys } from '../checkpoint-keys';
import { concat0, permute, reshape, slice0, transpose2d } from '../tensor-data';
import { configFromShapes, squareSide, type ConvertedCheckpoint, type ReaderOptions } from './converted';

const LAYOUT = 'Google/big_vision .npz ViT';

/**
 * Google's ViT `.npz` (the original `ViT-B_16.npz` release and big_vision exports) → timm names.
 * Flax kernels are `[in, out]` (transposed to PyTorch's `[out, in]`), the patch kernel HWIO (→ OIHW),
 * per-head q/k/v kernels `[D, heads, D/heads]` (fused into `attn.qkv` as timm does), the output kernel
 * `[heads, D/heads, D]`. Both block namings are read — `MultiHeadDotProductAttention_1`/`LayerNorm_2`/
 * `MlpBlock_3` (original) and `_0`/`LayerNorm_1`/`MlpBlock_0` (big_vision) — numbered
 * (`encoderblock_N`) or stacked (`encoderblock`, one leading depth axis). `head/*` becomes `head.*`;
 * a `pre_logits` representation layer is dropped (vpeft's features are the final-norm CLS token).
 */
export function fromBigVision(tensors: ReadonlyMap<string, TensorData>, source: string, options: ReaderOptions = {}): ConvertedCheckpoint {
  const keys = new CheckpointKeys(tensors, source, LAYOUT);
  const notes: string[] = [];
  const out = new Map<string, TensorData>();
  const kernel = keys.take('embedding/kernel', [-1, -1, -1, -1]);
  const [p, p2, channels, d] = kernel.shape as [number, number, number, number];
  if (p !== p2) throw new FileFormatError(source, `embedding/kernel is ${p}x${p2}; vpeft's ViT needs square patches`);
  out.set('patch_embed.proj.weight', permute(kernel, [3, 2, 0, 1]));
  out.set('patch_embed.proj.bias', keys.take('embedding/bias', [d]));
  if (!keys.has('cls')) throw new FileFormatError(source, 'has no "cls" token (a GAP-pooled model); vpeft\'s ViT pools the CLS token');
  out.set('cls_token', keys.take('cls', [1, 1, d]));
  const pos = keys.take('Transformer/posembed_input/pos_embedding', [1, -1, d]);
  const grid = squareSide(pos.shape[1]! - 1);
  if (!grid) throw new FileFormatError(source, `pos_embedding has ${pos.shape[1]} positions, not CLS + a square grid`);
  out.set('pos_embed', pos);

  const stacked = !keys.has('Transformer/encoderblock_0/LayerNorm_0/scale') && keys.has('Transformer/encoderblock/LayerNorm_0/scale');
  const depth = stacked ? keys.take('Transformer/encoderblock/LayerNorm_0/scale').shape[0]! : keys.count(/^Transformer\/encoderblock_(\d+)\//);
  if (depth === 0) keys.take('Transformer/encoderblock_0/LayerNorm_0/scale');
  const original = keys.has(stacked ? 'Transformer/encoderblock/MultiHeadDotProductAttention_1/query/kernel' : 'Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel');
  const [mha, norm2, mlp] = original ? ['MultiHeadDotProductAttention_1', 'LayerNorm_2', 'MlpBlock_3'] : ['MultiHeadDotProductAttention_0', 'LayerNorm_1', 'MlpBlock_0'];
  const block = (i: number, path: string, shape: readonly number[]): TensorData => {
    if (!stacked) return keys.take(`Transformer/encoderblock_${i}/${path}`, shape);
    const all = keys.take(`Transformer/encoderblock/${path}`, [depth, ...shape]);
    const one = slice0(all, i, 1);
    return reshape(one, one.shape.slice(1));
  };
  const heads = block(0, `${mha}/query/kernel`, [d, -1, -1]).shape[1]!;
  if (options.numHeads !== undefined && options.numHeads !== heads) {
    throw new OptionError('numHeads', options.numHeads, `${heads}: the checkpoint's attention kernels record ${heads} heads (leave it out for npz)`, 'npz');
  }
  const hd = d / heads;
  const mlpDim = block(0, `${mlp}/Dense_0/kernel`, [d, -1]).shape[1]!;
  const dense = (kernelT: TensorData, inF: number, outF: number) => transpose2d(reshape(kernelT, [inF, outF]));
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}`;
    out.set(`${b}.norm1.weight`, block(i, 'LayerNorm_0/scale', [d]));
    out.set(`${b}.norm1.bias`, block(i, 'LayerNorm_0/bias', [d]));
    const qkv = ['query', 'key', 'value'];
    out.set(`${b}.attn.qkv.weight`, concat0(qkv.map((n) => dense(block(i, `${mha}/${n}/kernel`, [d, heads, hd]), d, d))));
    out.set(`${b}.attn.qkv.bias`, concat0(qkv.map((n) => reshape(block(i, `${mha}/${n}/bias`, [heads, hd]), [d]))));
    out.set(`${b}.attn.proj.weight`, dense(block(i, `${mha}/out/kernel`, [heads, hd, d]), d, d));
    out.set(`${b}.attn.proj.bias`, block(i, `${mha}/out/bias`, [d]));
    out.set(`${b}.norm2.weight`, block(i, `${norm2}/scale`, [d]));
    out.set(`${b}.norm2.bias`, block(i, `${norm2}/bias`, [d]));
    out.set(`${b}.mlp.fc1.weight`, dense(block(i, `${mlp}/Dense_0/kernel`, [d, mlpDim]), d, mlpDim));
    out.set(`${b}.mlp.fc1.bias`, block(i, `${mlp}/Dense_0/bias`, [mlpDim]));
    out.set(`${b}.mlp.fc2.weight`, dense(block(i, `${mlp}/Dense_1/kernel`, [mlpDim, d]), mlpDim, d));
    out.set(`${b}.mlp.fc2.bias`, block(i, `${mlp}/Dense_1/bias`, [d]));
  }
  out.set('norm.weight', keys.take('Transformer/encoder_norm/scale', [d]));
  out.set('norm.bias', keys.take('Transformer/encoder_norm/bias', [d]));
  if (keys.has('head/kernel')) {
    out.set('head.weight', transpose2d(keys.take('head/kernel', [d, -1])));
    out.set('head.bias', keys.take('head/bias', [-1]));
  }
  const preLogits = [...tensors.keys()].filter((k) => k.startsWith('pre_logits/'));
  if (preLogits.length) {
    keys.drop(preLogits);
    notes.push('dropped the pre_logits representation layer (features are the final-norm CLS token)');
  }
  keys.assertAllUsed();
  const config = configFromShapes({ imageSize: grid * p, patchSize: p, inChannels: channels, embedDim: d, depth, numHeads: heads, mlpDim, layerNormEps: 1e-6 }, options.name, 'npz');
  return { config, tensors: out, notes };
}
