import type * as tf from '@tensorflow/tfjs-core';
import type { BackboneConfig } from '../backbone/backbone';
import type { Initializer } from '../init/initializers';
import type { Parameter, ParameterRole, ParameterStore } from '../params/parameter';
import type { SiteInfo, SiteKind, Transform } from '../sites/site';

/** The PEFT families of the survey (arXiv 2402.02242). */
export type MethodCategory = 'addition' | 'partial' | 'reparameterization' | 'unified';

/** Handed to {@link MethodSpec.create}: makes the method's variables with canonical names. */
export interface CreateContext {
  /** The method instance's name (the owner of the variables it creates). */
  readonly owner: string;
  readonly site: SiteInfo;
  /** The backbone's parameters, e.g. to fold a delta into `site.weight` on merge. */
  readonly backbone: ParameterStore;
  readonly backboneConfig: BackboneConfig;
  /**
   * Creates a trainable variable named `<owner>.<site>.<localName>`, initialised by `init`
   * (seeded from the model seed and the full name) or taken from a tensor.
   */
  parameter(localName: string, shape: number[], init: Initializer | tf.Tensor, role?: ParameterRole): tf.Variable;
  /**
   * Every site this method instance builds at (what `targets` returned), in build order — e.g. to
   * know this site's position among them, or which one comes first.
   */
  readonly targets: readonly SiteInfo[];
  /**
   * A trainable variable shared by all of this instance's modules, named `<owner>.<localName>`:
   * created by the first call, the same variable for every later call with that name (the shape
   * must match). For parts used at every site, e.g. prefix tuning's reparameterisation MLP.
   */
  sharedParameter(localName: string, shape: number[], init: Initializer | tf.Tensor, role?: ParameterRole): tf.Variable;
}

/** What a method builds at one site: the transform and, when the math allows, merge/unmerge. */
export interface SiteModule<K extends SiteKind = SiteKind> {
  readonly transform: Transform<K>;
  /** Folds the transform into the backbone's weights; the transform is then skipped in forward. */
  merge?(): void;
  /** Undoes {@link merge}. */
  unmerge?(): void;
}

/** A {@link SiteModule} of any one site kind (what `create` returns). */
export type AnySiteModule = { [K in SiteKind]: SiteModule<K> }[SiteKind];

/** Handed to {@link MethodSpec.select}. */
export interface SelectContext {
  readonly backboneConfig: BackboneConfig;
  readonly sites: readonly SiteInfo[];
}

/**
 * The method contract (v1). Addition-based and reparameterisation methods implement `targets` +
 * `create`; partial-based methods implement `select` and only unfreeze existing parameters.
 */
export interface MethodSpec<Options extends object> {
  /** Unique lowercase name; also the default owner name and weight prefix. */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** The npm package that provides the method, for "install X" messages. */
  readonly packageName?: string;
  readonly category: MethodCategory;
  /** Every option with its default; unknown option names are rejected against these keys. */
  readonly defaults: Options;
  /** Throws an `OptionError` for invalid options (after defaults are applied). */
  validate?(options: Options): void;
  /** The sites to build at, chosen from the backbone's sites; throw an `OptionError` when a target matches none. */
  targets?(sites: readonly SiteInfo[], options: Options): SiteInfo[];
  /** Builds the transform (and its variables) at one site. */
  create?(site: SiteInfo, options: Options, ctx: CreateContext): AnySiteModule;
  /** Partial-based: whether to unfreeze this backbone parameter. */
  select?(parameter: Parameter, options: Options, ctx: SelectContext): boolean;
  /** Whether the model's output is unchanged at step 0 (zero-initialised output path). */
  zeroInit?(options: Options): boolean;
  /**
   * For methods that are not the identity at initialisation (e.g. SSF's scale ~ N(1, 0.02)): the
   * value every element of the method's parameter `parameterName` takes to make the method the
   * identity (SSF: 1 for a scale, 0 for a shift). The conformance suite sets these values and checks
   * the model then reproduces the backbone. `undefined` for a parameter with no such value.
   */
  identityValue?(parameterName: string, options: Options): number | undefined;
}

/** A method definition: the spec plus `configure` to make instances. */
export interface MethodDefinition<Options extends object = Record<string, unknown>> extends MethodSpec<Options> {
  readonly specificationVersion: 'v1';
  /** Validates options (defaults filled in) and returns an instance to pass to `applyPeft`/`compose`. */
  configure(options?: Partial<Options>, instance?: { name?: string }): MethodInstance<Options>;
}

/** A configured method: definition + resolved options + instance name. */
export interface MethodInstance<Options extends object = Record<string, unknown>> {
  readonly kind: 'method';
  readonly definition: MethodDefinition<Options>;
  /** Owner name of its parameters; the method name unless set (needed to use one method twice). */
  readonly name: string;
  readonly options: Readonly<Options>;
}

/** Several methods composed into one unified method (NOAH-style); transforms chain in this order. */
export interface ComposedMethod {
  readonly kind: 'composed';
  readonly name: string;
  readonly methods: readonly MethodInstance<object>[];
}

/** Anything `applyPeft` accepts as methods. */
export type MethodInput = MethodInstance<object> | ComposedMethod | readonly (MethodInstance<object> | ComposedMethod)[];
