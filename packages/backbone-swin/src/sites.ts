import { LINEAR_ROLES, type SiteInfo } from '@vpeft/core';
import { stageDim, stageResolution, type SwinConfig } from './config';

/**
 * The sites of a Swin Transformer, in forward order: the patch projection and its norm; per stage
 * (from stage 1) the patch merging's norm and reduction; per block the token sequence (`tokens`, with
 * the stage's grid; `block` is the global block index, so deep prompts follow the blocks in order), the
 * attn and mlp branches, `norm1`/`norm2`, the fused `attn.qkv` (q/k/v slices), `attn.proj`,
 * `mlp.fc1`/`mlp.fc2`; the final norm; the pooled features.
 */
export function buildSwinSites(c: SwinConfig): SiteInfo[] {
  const p = c.patchSize;
  const sites: SiteInfo[] = [
    { name: 'patch_embed.proj', kind: 'linear', role: 'embedding', inFeatures: p * p * c.inChannels, outFeatures: c.embedDim, weight: 'patch_embed.proj.weight', bias: 'patch_embed.proj.bias' },
    { name: 'patch_embed.norm', kind: 'norm', role: 'norm', dim: c.embedDim, weight: 'patch_embed.norm.weight', bias: 'patch_embed.norm.bias' },
  ];
  let global = 0;
  c.depths.forEach((depth, s) => {
    const d = stageDim(c, s);
    const res = stageResolution(c, s);
    if (s > 0) {
      const m = `layers.${s}.downsample`;
      sites.push(
        { name: `${m}.norm`, kind: 'norm', role: 'norm', stage: s, dim: 2 * d, weight: `${m}.norm.weight`, bias: `${m}.norm.bias` },
        { name: `${m}.reduction`, kind: 'linear', role: 'downsample', stage: s, inFeatures: 2 * d, outFeatures: d, weight: `${m}.reduction.weight` },
      );
    }
    const hidden = d * c.mlpRatio;
    for (let j = 0; j < depth; j++, global++) {
      const b = `layers.${s}.blocks.${j}`;
      const block = global;
      const linearSite = (name: string, inF: number, outF: number, extra: Partial<SiteInfo> = {}): SiteInfo => ({
        name: `${b}.${name}`, kind: 'linear', role: LINEAR_ROLES[name], block, stage: s, inFeatures: inF, outFeatures: outF,
        weight: `${b}.${name}.weight`, bias: name === 'attn.qkv' && !c.qkvBias ? undefined : `${b}.${name}.bias`, ...extra,
      });
      const normSite = (name: string): SiteInfo => ({ name: `${b}.${name}`, kind: 'norm', role: 'norm', block, stage: s, dim: d, weight: `${b}.${name}.weight`, bias: `${b}.${name}.bias` });
      sites.push(
        { name: `${b}.tokens`, kind: 'tokens', block, stage: s, dim: d, grid: [res, res] },
        { name: `${b}.attn`, kind: 'branch', block, stage: s, dim: d, branch: 'attn' },
        normSite('norm1'),
        linearSite('attn.qkv', d, 3 * d, { slices: { q: [0, d], k: [d, 2 * d], v: [2 * d, 3 * d] } }),
        linearSite('attn.proj', d, d),
        { name: `${b}.mlp`, kind: 'branch', block, stage: s, dim: d, branch: 'mlp' },
        normSite('norm2'),
        linearSite('mlp.fc1', d, hidden),
        linearSite('mlp.fc2', hidden, d),
      );
    }
  });
  const last = stageDim(c, c.depths.length - 1);
  sites.push({ name: 'norm', kind: 'norm', role: 'norm', dim: last, weight: 'norm.weight', bias: 'norm.bias' }, { name: 'features', kind: 'features', role: 'head-input', dim: last });
  return sites;
}
