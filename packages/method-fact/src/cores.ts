import * as tf from '@tensorflow/tfjs-core';
import { init, type CreateContext, type SiteInfo } from '@vpeft/core';
import type { FactOptions } from './options';

/** Which block weight a site is, in the reference's terms. */
export type FactWeight = 'qkv' | 'proj' | 'fc1' | 'fc2';

/** The block weight a site name denotes, if FacT can update it. */
export function factWeightOf(site: SiteInfo): FactWeight | undefined {
  // By the role the backbone declares (any transformer), else by timm's ViT names.
  const byRole = site.role ? ROLE_WEIGHTS[site.role] : undefined;
  if (byRole) return byRole;
  const m = /^blocks\.\d+\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)$/.exec(site.name);
  return m ? (m[1]!.split('.')[1] as FactWeight) : undefined;
}

const ROLE_WEIGHTS: Partial<Record<string, FactWeight>> = { 'attention.qkv': 'qkv', 'attention.out': 'proj', 'mlp.in': 'fc1', 'mlp.out': 'fc2' };

/**
 * How an update is laid out over a site's weight `[in, out]` in chunks of the model width D:
 * `'out'` — `k` output chunks (qkv: q, k, v; proj: 1; fc1: mlp/D), chunk c is `U·Σ_c·V`;
 * `'in'` — `k` input chunks (fc2), chunk c is `U·Σ_c·V`.
 */
export interface FactLayout {
  readonly mode: 'out' | 'in';
  readonly chunks: number;
}

/** The layout of a FacT update at a site. */
export function factLayout(weight: FactWeight, site: SiteInfo, dim: number): FactLayout {
  if (weight === 'fc2') return { mode: 'in', chunks: site.inFeatures! / dim };
  return { mode: 'out', chunks: site.outFeatures! / dim };
}

/**
 * FacT's factors shared by every site of one instance, in tfjs layouts: `U` `[D, r]` (the reference's
 * `FacTu`, kaiming-uniform as nn.Linear), `V` `[r, D]` (`FacTv`, zeros: the update starts at zero);
 * Tucker only: `P` `[r, 12·depth]` (`FacTp`) and the core `C` `[r, r, r]` (`FacTc`), xavier-uniform.
 */
export interface FactShared {
  readonly u: tf.Variable;
  readonly v: tf.Variable;
  readonly p?: tf.Variable;
  readonly c?: tf.Variable;
}

/** Gets (first call: creates) the shared factors. */
export function sharedFactors(ctx: CreateContext, options: FactOptions, dim: number, depth: number): FactShared {
  const { r } = options;
  const u = ctx.sharedParameter('FacTu', [dim, r], init.kaimingUniform(Math.sqrt(5)), 'weight');
  const v = ctx.sharedParameter('FacTv', [r, dim], init.zeros(), 'weight');
  if (options.variant === 'tt') return { u, v };
  const p = ctx.sharedParameter('FacTp', [r, 12 * depth], init.xavierUniform(), 'weight');
  const c = ctx.sharedParameter('FacTc', [r, r, r], init.xavierUniform(), 'weight');
  return { u, v, p, c };
}

/**
 * The per-site core `Σ` of the update `U·Σ·V` (chunked per {@link FactLayout}), a function so that
 * Tucker cores are recomputed from `C` and `P` in every forward: `'out'` layouts `[r, k·r]` (output
 * chunk c uses columns `c·r … (c+1)·r`), `'in'` layouts `[k·r, r]`.
 */
export type CoreFn = () => tf.Tensor2D;

/**
 * FacT-TT: the site's own trainable cores, named as the reference's `*_FacTs` and stored `[in, out]`:
 * qkv `q_FacTs`, `k_FacTs`, `v_FacTs` `[r, r]` (concatenated), proj `proj_FacTs` `[r, r]`, fc1
 * `fc1_FacTs` `[r, k·r]`, fc2 `fc2_FacTs` `[k·r, r]`; kaiming-uniform as nn.Linear.
 */
export function ttCore(ctx: CreateContext, weight: FactWeight, layout: FactLayout, r: number): CoreFn {
  const make = (name: string, shape: number[]) => ctx.parameter(name, shape, init.kaimingUniform(Math.sqrt(5)), 'weight');
  if (weight === 'qkv') {
    const parts = ['q', 'k', 'v'].map((n) => make(`${n}_FacTs`, [r, r]));
    return () => tf.concat(parts, 1) as tf.Tensor2D;
  }
  const shape = layout.mode === 'in' ? [layout.chunks * r, r] : [r, layout.chunks * r];
  const core = make(`${weight}_FacTs`, shape);
  return () => core as unknown as tf.Tensor2D;
}

/**
 * FacT-TK: the site's cores from the shared Tucker factors, as `fact_tk.py`: for block i the
 * attention takes `C ×₃ P[:, 12i … 12i+4]` (q, k, v, proj: the `[r, r]` slices 0–3) and the MLP
 * `C ×₃ P[:, 12i+4 … 12i+12]` (fc1: slices 0–3 reshaped `[r, 4r]`; fc2: slices 4–7 reshaped
 * `[r, 4r]`, transposed).
 */
export function tkCore(shared: FactShared, weight: FactWeight, block: number, layout: FactLayout, r: number): CoreFn {
  const k = layout.chunks;
  const attention = weight === 'qkv' || weight === 'proj';
  const start = 12 * block + (attention ? 0 : 4);
  const width = attention ? 4 : 2 * k;
  const product = (): tf.Tensor3D =>
    tf.reshape(tf.matMul(tf.reshape(shared.c!, [r * r, r]), tf.slice(shared.p!, [0, start], [r, width])), [r, r, width]) as tf.Tensor3D;
  const slices = (t: tf.Tensor3D, from: number, count: number) => tf.slice(t, [0, 0, from], [r, r, count]);
  switch (weight) {
    case 'qkv':
      return () => tf.tidy(() => {
        const t = product();
        return tf.concat([0, 1, 2].map((i) => tf.reshape(slices(t, i, 1), [r, r])), 1) as tf.Tensor2D;
      });
    case 'proj':
      return () => tf.tidy(() => tf.reshape(slices(product(), 3, 1), [r, r]) as tf.Tensor2D);
    case 'fc1':
      return () => tf.tidy(() => tf.reshape(slices(product(), 0, k), [r, k * r]) as tf.Tensor2D);
    case 'fc2':
      return () => tf.tidy(() => tf.transpose(tf.reshape(slices(product(), k, k), [r, k * r])) as tf.Tensor2D);
  }
}
