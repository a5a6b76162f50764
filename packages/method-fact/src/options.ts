import { OptionError } from '@vpeft/core';

/** FacT's tensor format: tensor-train (TT) or Tucker (TK), as JieShibo/PETL-ViT's `fact_tt.py` / `fact_tk.py`. */
export type FactVariant = 'tt' | 'tk';

/** The FacT formats, for messages and the CLI. */
export const FACT_VARIANTS: readonly FactVariant[] = ['tt', 'tk'];

/** Options of the `fact` method. */
export interface FactOptions {
  /** `'tt'` (a core per weight) or `'tk'` (one core tensor and per-weight loadings). */
  variant: FactVariant;
  /** Rank of the factorisation (the reference's `dim`); a positive integer. */
  r: number;
  /** Scale `s` of the update (the reference tunes it per dataset, e.g. 0.1 to 100). */
  scale: number;
  /** Dropout on the factorised path (the reference uses 0.1), training only, in [0, 1). */
  dropout: number;
  /**
   * Globs over the ViT's block weights FacT updates: each must be a `blocks.{i}.attn.qkv`,
   * `attn.proj`, `mlp.fc1` or `mlp.fc2` site. Default: all four in every block, as the reference.
   */
  targets: string[];
}

/** Defaults: FacT-TT, rank 8, scale 1, dropout 0.1, every qkv/proj/fc1/fc2 of every block. */
export const FACT_DEFAULTS: FactOptions = {
  variant: 'tt',
  r: 8,
  scale: 1,
  dropout: 0.1,
  // Every linear layer of each transformer block, by role.
  targets: ['@attention.qkv', '@attention.out', '@mlp.in', '@mlp.out'],
};

/** Throws an {@link OptionError} naming the option, the value given and what is allowed. */
export function validateFactOptions(options: FactOptions): void {
  const { variant, r, scale, dropout, targets } = options;
  if (!FACT_VARIANTS.includes(variant)) throw new OptionError('variant', variant, `one of ${FACT_VARIANTS.map((v) => `"${v}"`).join(', ')}`, 'fact');
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw new OptionError('r', r, 'a positive integer rank', 'fact');
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale === 0) throw new OptionError('scale', scale, 'a non-zero number', 'fact');
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new OptionError('dropout', dropout, 'a rate in [0, 1)', 'fact');
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string' || t === '')) {
    throw new OptionError('targets', targets, 'a non-empty array of role selectors (@attention.qkv, @attention.out, @mlp.in, @mlp.out) or site-name globs over blocks.*.attn.{qkv,proj} and blocks.*.mlp.fc{1,2}', 'fact');
  }
}
