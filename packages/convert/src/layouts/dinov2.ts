import { bicubicMatrix, FileFormatError, OptionError, type TensorData } from '@vpeft/core';
import { CheckpointKeys } from '../checkpoint-keys';
import { configFromShapes, headsFor, squareSide, type ConvertedCheckpoint, type ReaderOptions } from './converted';
import { numel } from '../tensor-data';

const LAYOUT = 'DINOv2';

/** Options of {@link fromDinov2}. */
export interface Dinov2Options extends ReaderOptions {
  /**
   * Input size to convert for (a multiple of 14): the position embedding is interpolated once, as
   * DINOv2's `interpolate_pos_encoding` does (bicubic, scale factor `(g + 0.1) / M`, no antialias).
   * Default: the checkpoint's own grid (518 px for the released models).
   */
  imageSize?: number;
}

/**
 * A facebookresearch/dinov2 checkpoint (`dinov2_vit{s,b,l}14[_reg4]_pretrain.pth` saved as
 * safetensors; timm-like names) → timm names: layer scale `ls1/ls2.gamma` kept, `mask_token` dropped,
 * chunked blocks (`blocks.C.I.`) flattened. With `register_tokens` it becomes timm's DINOv2-with-
 * registers layout (`reg_token`; no class position: the CLS position is folded into `cls_token`,
 * `pos_embed` covers the patches only), as timm's own converter does. SwiGLU MLPs (ViT-g) are not supported.
 */
export function fromDinov2(tensors: ReadonlyMap<string, TensorData>, source: string, options: Dinov2Options = {}): ConvertedCheckpoint {
  const flat = new Map<string, TensorData>();
  for (const [k, v] of tensors) flat.set(k.replace(/^blocks\.\d+\.(\d+)\./, 'blocks.$1.'), v);
  const keys = new CheckpointKeys(flat, source, LAYOUT);
  if (keys.has('blocks.0.mlp.w12.weight')) throw new FileFormatError(source, 'has a SwiGLU MLP (mlp.w12/w3, DINOv2 ViT-g); vpeft\'s ViT has a GELU MLP only');
  const notes: string[] = [];
  const out = new Map<string, TensorData>();
  const patch = keys.take('patch_embed.proj.weight', [-1, -1, -1, -1]);
  const [d, channels, p] = patch.shape as [number, number, number, number];
  out.set('patch_embed.proj.weight', patch);
  out.set('patch_embed.proj.bias', keys.take('patch_embed.proj.bias', [d]));
  const cls = keys.take('cls_token', [1, 1, d]);
  const pos = keys.take('pos_embed', [1, -1, d]);
  const m = squareSide(pos.shape[1]! - 1);
  if (!m) throw new FileFormatError(source, `pos_embed has ${pos.shape[1]} positions, not CLS + a square grid`);
  const imageSize = options.imageSize ?? m * p;
  if (!Number.isInteger(imageSize) || imageSize <= 0 || imageSize % p !== 0) throw new OptionError('imageSize', imageSize, `a positive multiple of the patch size ${p}`, 'dinov2');
  const grid = imageSize / p;
  const clsPos = { shape: [1, 1, d], data: pos.data.slice(0, d) };
  let patchPos: TensorData = { shape: [1, m * m, d], data: pos.data.slice(d) };
  if (grid !== m) {
    patchPos = interpolateDinov2(patchPos, m, grid, d);
    notes.push(`interpolated the position embedding ${m}x${m} -> ${grid}x${grid} as DINOv2 does (for ${imageSize} px)`);
  }
  const registers = keys.has('register_tokens') ? keys.take('register_tokens', [1, -1, d]) : undefined;
  if (registers) {
    out.set('reg_token', registers);
    out.set('cls_token', { shape: [1, 1, d], data: cls.data.map((v, i) => v + clsPos.data[i]!) });
    out.set('pos_embed', patchPos);
  } else {
    out.set('cls_token', cls);
    const joined = new Float32Array(numel([1, 1 + grid * grid, d]));
    joined.set(clsPos.data);
    joined.set(patchPos.data, d);
    out.set('pos_embed', { shape: [1, 1 + grid * grid, d], data: joined });
  }
  keys.drop(['mask_token']);
  const depth = keys.count(/^blocks\.(\d+)\./);
  if (depth === 0) keys.take('blocks.0.norm1.weight');
  const mlpDim = keys.take('blocks.0.mlp.fc1.weight', [-1, d]).shape[0]!;
  const layerScale = keys.has('blocks.0.ls1.gamma');
  const names = ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias', 'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias'];
  const shapes = [[d], [d], [3 * d, d], [3 * d], [d, d], [d], [d], [d], [mlpDim, d], [mlpDim], [d, mlpDim], [d]];
  if (layerScale) names.push('ls1.gamma', 'ls2.gamma'), shapes.push([d], [d]);
  for (let i = 0; i < depth; i++) names.forEach((n, j) => out.set(`blocks.${i}.${n}`, keys.take(`blocks.${i}.${n}`, shapes[j])));
  out.set('norm.weight', keys.take('norm.weight', [d]));
  out.set('norm.bias', keys.take('norm.bias', [d]));
  keys.assertAllUsed();
  const config = configFromShapes(
    {
      imageSize,
      patchSize: p,
      inChannels: channels,
      embedDim: d,
      depth,
      numHeads: headsFor(d, options.numHeads, 'dinov2'),
      mlpDim,
      layerNormEps: 1e-6,
      layerScale: layerScale ? 1e-5 : 0,
      registerTokens: registers ? registers.shape[1]! : 0,
      noEmbedClass: registers !== undefined,
    },
    options.name,
    'dinov2',
  );
  return { config, tensors: out, notes };
}

/** DINOv2's `interpolate_pos_encoding` for square grids: `F.interpolate(bicubic, scale_factor=(g + 0.1) / m)`. */
function interpolateDinov2(pos: TensorData, m: number, g: number, d: number): TensorData {
  const w = bicubicMatrix(m, g, false, m / (g + 0.1));
  const out = new Float32Array(g * g * d);
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g; j++) {
      const o = (i * g + j) * d;
      for (let a = 0; a < m; a++) {
        const wa = w[i * m + a]!;
        if (wa === 0) continue;
        for (let b = 0; b < m; b++) {
          const wab = wa * w[j * m + b]!;
          if (wab === 0) continue;
          const s = (a * m + b) * d;
          for (let c = 0; c < d; c++) out[o + c] += wab * pos.data[s + c]!;
        }
      }
    }
  }
  return { shape: [1, g * g, d], data: out };
}
