import { OptionError, type ParameterRole } from '@vpeft/core';

/** Options of `bitfit`: which parameter roles count as biases. */
export interface BitFitOptions {
  /** Roles to unfreeze. Default: every bias — linear/conv biases (`bias`) and normalisation shifts (`norm-bias`, e.g. LayerNorm and BatchNorm beta). */
  roles: ParameterRole[];
}

/** Options of `ln-tune`: normalisation scales and shifts. */
export interface LnTuneOptions {
  /** Roles to unfreeze. Default `['norm-weight', 'norm-bias']`. */
  roles: ParameterRole[];
}

/** Options of `partial`: the last k blocks, and/or any parameters by glob. */
export interface PartialOptions {
  /** Unfreeze every parameter of the last k blocks (`blocks.{depth-k..depth-1}.*`); 0 for none. */
  lastBlocks: number;
  /** Globs over parameter names to unfreeze as well (`blocks.11.**`, `norm.*`). */
  include: string[];
}

export const BITFIT_DEFAULTS: BitFitOptions = { roles: ['bias', 'norm-bias'] };
export const LN_TUNE_DEFAULTS: LnTuneOptions = { roles: ['norm-weight', 'norm-bias'] };
export const PARTIAL_DEFAULTS: PartialOptions = { lastBlocks: 1, include: [] };

const ROLES: ParameterRole[] = ['weight', 'bias', 'norm-weight', 'norm-bias', 'embedding', 'token', 'scale', 'other'];

/** Checks a role list. */
export function validateRoles(roles: unknown, method: string): void {
  if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => !ROLES.includes(r as ParameterRole))) {
    throw new OptionError('roles', roles, `a non-empty list of parameter roles from ${ROLES.join(', ')}`, method);
  }
}

/** Checks the options of `partial`. */
export function validatePartialOptions(options: PartialOptions): void {
  if (!Number.isInteger(options.lastBlocks) || options.lastBlocks < 0) {
    throw new OptionError('lastBlocks', options.lastBlocks, 'an integer >= 0 (the number of final blocks to unfreeze)', 'partial');
  }
  if (!Array.isArray(options.include) || options.include.some((g) => typeof g !== 'string' || g === '')) {
    throw new OptionError('include', options.include, 'a list of parameter-name globs, e.g. ["blocks.11.**"]', 'partial');
  }
  if (options.lastBlocks === 0 && options.include.length === 0) {
    throw new OptionError('lastBlocks', 0, 'lastBlocks >= 1 or a non-empty include list (otherwise nothing is tuned)', 'partial');
  }
}
