import { VpeftError } from '@vpeft/core';

/**
 * A grid spec that cannot run: an unknown method, option or task, an empty grid, a bad value, a shard
 * out of range. Raised before any training starts; the message names where in the spec, what was
 * given and what is allowed. The CLI prints it as one line and exits 2.
 */
export class BenchSpecError extends VpeftError {
  override name = 'BenchSpecError';
}

/**
 * Results that cannot be used: a damaged or missing results file, files from different specs, missing
 * or duplicate shards or cells. Bad input (the results given or found in --out): the CLI exits 2.
 */
export class BenchResultsError extends VpeftError {
  override name = 'BenchResultsError';
}
