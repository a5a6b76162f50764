/**
 * The model module of `vpeft train --workers N`: each data-parallel worker imports it and builds the
 * same model as the main thread from the spec the CLI puts in `VPEFT_WORKER_MODEL` (workers inherit
 * the environment); the workers then copy the main thread's parameter values.
 */
import { applyPeft, compose, type PeftModel } from '@vpeft/core';
import { resolveBackbone, type BackboneSpec } from './backbones';
import { discoverMethods } from './discover-methods';
import { parseMethodSpec } from './method-spec';

/** What a worker needs to rebuild the CLI's model. */
export interface WorkerModelSpec extends BackboneSpec {
  methods: string[];
  numClasses: number;
  seed: number;
}

/** The environment variable that carries the {@link WorkerModelSpec}. */
export const WORKER_MODEL_ENV = 'VPEFT_WORKER_MODEL';

/** Builds the model described by `VPEFT_WORKER_MODEL`. */
export async function createModel(): Promise<PeftModel> {
  const text = process.env[WORKER_MODEL_ENV];
  if (!text) throw new Error(`${WORKER_MODEL_ENV} is not set: this module is loaded by vpeft train --workers`);
  const spec = JSON.parse(text) as WorkerModelSpec;
  await discoverMethods();
  const { backbone } = await resolveBackbone(spec);
  return applyPeft(backbone, spec.methods.length ? compose(...spec.methods.map(parseMethodSpec)) : [], { numClasses: spec.numClasses, seed: spec.seed });
}

/** URL of this module for the worker pool (the built `.js` next to the CLI, or this source file). */
export function workerModelUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL(import.meta.url) : new URL('./worker-model.js', import.meta.url);
}
