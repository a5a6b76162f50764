import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone/backbone';
import { MethodNotApplicableError, OptionError } from '../errors/errors';
import { init, initialize, type Initializer } from '../init/initializers';
import { hashSeed } from '../init/random';
import { flattenMethods } from '../method/compose';
import type { CreateContext, MethodInput, MethodInstance } from '../method/method';
import { ParameterStore, type ParameterRole } from '../params/parameter';
import { PeftModel } from './peft-model';
import { SiteChains } from './site-chain';

/** Options for {@link applyPeft}. */
export interface ApplyPeftOptions {
  /** Classes of the new linear head. */
  numClasses: number;
  /** Seed of every new variable's initialisation (default 0). */
  seed?: number;
  /** Head weight init: timm's trunc-normal(0.02) (default) or zeros. */
  headInit?: 'trunc-normal' | 'zeros';
  /** Class names, kept in the saved adapter. */
  classNames?: readonly string[];
}

/**
 * Applies PEFT methods to a backbone: freezes every backbone parameter, lets partial-based methods
 * unfreeze the ones they select, builds each addition/reparameterisation method's modules at its
 * target sites (transforms chain in the order given), and adds a linear head.
 * With no methods this is a linear probe.
 */
export function applyPeft(backbone: Backbone, methods: MethodInput | readonly never[], options: ApplyPeftOptions): PeftModel {
  if (!Number.isInteger(options.numClasses) || options.numClasses < 1) {
    throw new OptionError('numClasses', options.numClasses, 'a positive integer', 'applyPeft');
  }
  if (options.classNames && options.classNames.length !== options.numClasses) {
    throw new OptionError('classNames', `${options.classNames.length} names`, `${options.numClasses} names (numClasses)`, 'applyPeft');
  }
  const instances: MethodInstance<object>[] = (Array.isArray(methods) && methods.length === 0) ? [] : flattenMethods(methods as MethodInput);
  const seed = options.seed ?? 0;
  const store = new ParameterStore();
  // What a failed call restores: the backbone's trainable flags and selections as they were.
  const before = backbone.parameters.list().map((p) => ({ p, trainable: p.trainable, selectedBy: p.selectedBy }));
  backbone.parameters.freeze();
  for (const p of backbone.parameters.list()) {
    p.selectedBy = undefined;
    store.add(p);
  }
  const sites = backbone.sites();
  const chains = new SiteChains(sites);
  const created: string[] = [];
  try {
    for (const instance of instances) {
      const { definition, options: methodOptions, name: owner } = instance;
      if (definition.select) {
        let selected = 0;
        for (const p of backbone.parameters.list()) {
          if (definition.select(p, methodOptions, { backboneConfig: backbone.config, sites })) {
            p.trainable = true;
            p.selectedBy ??= owner;
            selected++;
          }
        }
        // A partial-based method that selects nothing is a misconfiguration (a glob with a typo, a role the backbone lacks).
        if (selected === 0 && !definition.create) {
          throw new OptionError('options', methodOptions, `options that select at least one parameter of backbone ${String(backbone.config.name ?? backbone.config.arch)}`, owner);
        }
      }
      if (definition.create) {
        const targets = definition.targets!(sites, methodOptions);
        if (targets.length === 0) throw new MethodNotApplicableError(owner, backboneName(backbone), 'it found no site to act on with these options');
        const createVariable = (name: string, localName: string, shape: number[], value: Initializer | tf.Tensor, role: ParameterRole) => {
          const tensor = value instanceof tf.Tensor ? value : initialize(value, shape, hashSeed(name, seed));
          if (tensor.shape.join(',') !== shape.join(',')) {
            throw new OptionError(localName, tensor.shape, `a tensor of shape [${shape.join(', ')}]`, owner);
          }
          created.push(name);
          return store.create(name, tensor, role, owner, true).variable;
        };
        for (const site of targets) {
          const ctx: CreateContext = {
            owner,
            site,
            targets,
            backbone: backbone.parameters,
            backboneConfig: backbone.config,
            parameter: (localName, shape, value, role = 'other') => createVariable(`${owner}.${site.name}.${localName}`, localName, shape, value, role),
            sharedParameter(localName, shape, value, role = 'other') {
              const name = `${owner}.${localName}`;
              if (!store.has(name)) return createVariable(name, localName, shape, value, role);
              const existing = store.variable(name);
              if (existing.shape.join(',') !== shape.join(',')) {
                throw new OptionError(localName, shape, `the shape it was first created with, [${existing.shape.join(', ')}]`, owner);
              }
              return existing;
            },
          };
          chains.attach(owner, site, definition.create(site, methodOptions, ctx));
        }
      }
    }
    const d = backbone.featureDim;
    const headWeight = options.headInit === 'zeros' ? init.zeros() : init.truncatedNormal(0.02);
    store.create('head.weight', initialize(headWeight, [d, options.numClasses], hashSeed('head.weight', seed)), 'weight', 'head', true);
    store.create('head.bias', tf.zeros([options.numClasses]), 'bias', 'head', true);
  } catch (caught) {
    let error = caught;
    // Name the backbone in "does not apply" messages of methods that only see its sites.
    if (error instanceof MethodNotApplicableError && error.backbone === 'this backbone') error = new MethodNotApplicableError(error.method, backboneName(backbone), error.reason);
    for (const name of [...created, 'head.weight']) store.remove(name);
    for (const { p, trainable, selectedBy } of before) {
      p.trainable = trainable;
      p.selectedBy = selectedBy;
    }
    throw error;
  }
  return new PeftModel({ backbone, methods: instances, parameters: store, chains, numClasses: options.numClasses, classNames: options.classNames, seed });
}

/** A backbone's name for messages. */
function backboneName(backbone: Backbone): string {
  return String(backbone.config.name ?? backbone.config.arch);
}
