import { matchesAny, type Parameter } from '@vpeft/core';

/**
 * Names never decayed, as timm's `no_weight_decay()` of a ViT (plus VPT-style prompts): position
 * embeddings and special tokens. Globs over dotted parameter names.
 */
export const DEFAULT_NO_WEIGHT_DECAY: readonly string[] = ['**.pos_embed', '**.cls_token', '**.dist_token', '**.reg_token', '**.prompt*'];

/** Roles that are never decayed: biases, norm affine parameters, embeddings and tokens/prompts. */
const NO_DECAY_ROLES = new Set<Parameter['role']>(['bias', 'norm-weight', 'norm-bias', 'embedding', 'token']);

/**
 * Whether AdamW's decoupled weight decay applies to a parameter, following timm's
 * `param_groups_weight_decay`: no decay for 1-D parameters (biases, norm scales), names ending in
 * `.bias`, or names in the skip list; additionally none for bias/norm/embedding/token roles.
 *
 * @param skip - globs of names never decayed (default {@link DEFAULT_NO_WEIGHT_DECAY}).
 */
export function decaysWeight(parameter: Parameter, skip: readonly string[] = DEFAULT_NO_WEIGHT_DECAY): boolean {
  if (parameter.variable.shape.length <= 1) return false;
  if (parameter.name.endsWith('.bias')) return false;
  if (NO_DECAY_ROLES.has(parameter.role)) return false;
  return !matchesAny(parameter.name, skip);
}
