import { OptionError } from '@vpeft/core';

/** Options of `vpt`. */
export interface VptOptions {
  /** Prompt tokens per layer (p). */
  tokens: number;
  /** Deep: every block gets its own prompts (replacing the previous block's outputs at those positions). */
  deep: boolean;
  /** Dropout on the prompts during training (VPT's prompt dropout; default 0). */
  dropout: number;
  /** `uniform`: ±sqrt(6 / (3·patch² + D)) as VPT (needs the backbone's patch size); `trunc-normal`: std 0.02. */
  init: 'uniform' | 'trunc-normal';
  /** `prepend`: `[CLS, prompts, patches]` (VPT); `append`: `[CLS, patches, prompts]` (NOAH's variant). */
  position: 'prepend' | 'append';
  /**
   * Deep only: prompt tokens per block (one entry per block, 0 = none), e.g. a NOAH subnet's
   * VISUAL_PROMPT_DIM. Overrides `tokens`. A block's prompts replace the previous prompted block's
   * (the sequence length changes with them); a block with 0 keeps the previous ones.
   */
  perBlock: number[];
}

export const VPT_DEFAULTS: VptOptions = { tokens: 10, deep: false, dropout: 0, init: 'uniform', position: 'prepend', perBlock: [] };

/** Checks `vpt` options; errors name the option, the value and what is allowed. */
export function validateVptOptions(options: VptOptions): void {
  if (!Number.isInteger(options.tokens) || options.tokens < 1) throw new OptionError('tokens', options.tokens, 'a positive integer (prompt tokens per layer)', 'vpt');
  if (typeof options.deep !== 'boolean') throw new OptionError('deep', options.deep, 'true or false', 'vpt');
  if (!(typeof options.dropout === 'number' && options.dropout >= 0 && options.dropout < 1)) throw new OptionError('dropout', options.dropout, 'a number in [0, 1)', 'vpt');
  if (options.init !== 'uniform' && options.init !== 'trunc-normal') throw new OptionError('init', options.init, '"uniform" or "trunc-normal"', 'vpt');
  if (options.position !== 'prepend' && options.position !== 'append') throw new OptionError('position', options.position, '"prepend" or "append"', 'vpt');
  const perBlock = options.perBlock;
  if (!Array.isArray(perBlock) || perBlock.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new OptionError('perBlock', perBlock, 'a list of non-negative integers (prompt tokens per block)', 'vpt');
  }
  if (perBlock.length > 0 && !options.deep) throw new OptionError('perBlock', perBlock, 'deep: true with it (per-block prompts are deep prompts)', 'vpt');
  if (perBlock.length > 0 && perBlock.every((p) => p === 0)) throw new OptionError('perBlock', perBlock, 'at least one block with prompts', 'vpt');
}
