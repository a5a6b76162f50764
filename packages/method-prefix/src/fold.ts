import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, VpeftError, type PeftModel } from '@vpeft/core';
import { prefixMethod } from './method';
import type { PrefixOptions } from './options';
import { layerPrefixes } from './transform';

/**
 * Folds a prefix instance's reparameterisation MLP: computes every layer's keys and values from the
 * MLP once and returns a new model (same backbone, same other methods and head) in which that
 * instance holds them as plain prefixes (`projection: false`, 2·L·p·D parameters). Its outputs equal
 * the original's; its saved adapter has no MLP. The original model stays usable — dispose it (its
 * backbone is shared) when done.
 */
export function foldPrefixProjection(model: PeftModel, name = 'prefix'): PeftModel {
  const instance = model.methods.find((m) => m.name === name);
  if (!instance || instance.definition.name !== prefixMethod.name) {
    throw new VpeftError(`foldPrefixProjection: the model has no prefix instance named "${name}" (its methods: ${model.methods.map((m) => m.name).join(', ') || 'none'})`);
  }
  const options = instance.options as PrefixOptions;
  if (!options.projection) throw new VpeftError(`foldPrefixProjection: prefix instance "${name}" has no MLP to fold (projection: false)`);
  const methods = model.methods.map((m) => (m === instance ? prefixMethod.configure({ ...options, projection: false }, { name }) : m));
  const folded = applyPeft(model.backbone, methods, { numClasses: model.numClasses, seed: model.seed, ...(model.classNames ? { classNames: model.classNames } : {}) });
  for (const p of folded.parameters.list()) {
    if (p.owner !== 'backbone' && model.parameters.has(p.name)) p.variable.assign(model.parameters.variable(p.name));
  }
  const shared = {
    embedding: model.parameters.variable(`${name}.embedding`),
    fc1Weight: model.parameters.variable(`${name}.mlp.fc1.weight`),
    fc1Bias: model.parameters.variable(`${name}.mlp.fc1.bias`),
  };
  for (const site of prefixMethod.targets!(model.backbone.sites(), options)) {
    const at = `${name}.${site.name}`;
    const layer = { fc2Weight: model.parameters.variable(`${at}.mlp.fc2.weight`), fc2Bias: model.parameters.variable(`${at}.mlp.fc2.bias`) };
    const { key, value } = layerPrefixes({ kind: 'projection', shared, layer });
    folded.parameters.variable(`${at}.key`).assign(key);
    folded.parameters.variable(`${at}.value`).assign(value);
    tf.dispose([key, value]);
  }
  return folded;
}
