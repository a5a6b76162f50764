import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone/backbone';
import { inputBatchSize, inputTensors, sliceInput, type BackboneInput, type FrozenOutput, type FrozenPartInfo, type NoFrozenPart } from '../backbone/frozen-output';
import { frozenUnits } from '../backbone/frozen-prefix';
import { VpeftError } from '../errors/errors';
import type { MethodInstance } from '../method/method';
import type { Parameter, ParameterStore } from '../params/parameter';
import { withoutGradient } from '../ops/without-gradient';
import { getAdapterFormat, VPEFT_ADAPTER_FORMAT } from './adapter-format';
import type { SiteChains } from './site-chain';
import { formatSummary, summarize, type ModelSummary } from './summary';

/** What {@link PeftModel.merge} did. */
export interface MergeReport {
  /** Method instances whose modules were folded into the base weights. */
  merged: string[];
  /** Method instances that cannot be merged (their modules still run at inference). */
  kept: string[];
}

/** Options for {@link PeftModel.predict}. */
export interface PredictOptions {
  /** Splits the input into chunks of this many images (bounded memory); default: all at once. */
  batchSize?: number;
}

/**
 * Constructor arguments. Use `applyPeft` to make a model; build one directly only to make a view that
 * shares another model's variables (as `@vpeft/multitask` does for each task).
 */
export interface PeftModelParts {
  backbone: Backbone;
  methods: MethodInstance<object>[];
  parameters: ParameterStore;
  chains: SiteChains;
  numClasses: number;
  classNames?: readonly string[];
  seed: number;
}

/**
 * A backbone with PEFT methods applied and a linear head: the thing you train, evaluate, merge and
 * save. Create it with `applyPeft`; load a saved one with `loadPeftModel`.
 */
export class PeftModel {
  readonly backbone: Backbone;
  readonly methods: readonly MethodInstance<object>[];
  /** Backbone parameters (shared with the backbone), method parameters and the head. */
  readonly parameters: ParameterStore;
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  readonly seed: number;
  /** The transforms attached at each site. */
  readonly chains: SiteChains;

  constructor(parts: PeftModelParts) {
    this.backbone = parts.backbone;
    this.methods = parts.methods;
    this.parameters = parts.parameters;
    this.chains = parts.chains;
    this.numClasses = parts.numClasses;
    this.classNames = parts.classNames;
    this.seed = parts.seed;
  }

  /**
   * Pre-logits features `[B, D]` with the methods applied. Call inside a tidy or dispose the result.
   * When nothing before the head trains (a linear probe), the backbone runs as in inference even in
   * training mode — off the gradient tape, with per-block tidy — since no gradient can flow into it.
   */
  features(images: BackboneInput, options: { training?: boolean } = {}): tf.Tensor2D {
    const training = options.training ?? false;
    if (training && !this.trainsBeforeHead()) {
      return withoutGradient(inputTensors(images)[0]!, () => this.backbone.forward(images, { training: false, sites: this.chains.runner(false) }));
    }
    return this.backbone.forward(images, { training, sites: this.chains.runner(training) });
  }

  /**
   * The part of a training pass no gradient reaches and whose output is the same for the same image
   * (see `Backbone.frozenPart`), or why there is none: what a feature cache may compute once.
   */
  frozenPart(): FrozenPartInfo | NoFrozenPart {
    if (!this.backbone.frozenPart || !this.backbone.runFrozenPart) return { reason: `${this.backbone.config.arch} backbones do not split off a frozen part` };
    return this.backbone.frozenPart(this.chains.runner(true));
  }

  /**
   * {@link frozenPart}'s output for `images` (computed as in inference, off the tape). `forward`,
   * `features` and `predict` take it in place of the images. The caller disposes its tensors.
   */
  frozenOutput(images: tf.Tensor4D): FrozenOutput {
    const run = this.backbone.runFrozenPart;
    if (!run) throw new VpeftError(`${this.backbone.config.arch} backbones do not split off a frozen part`);
    let key = '';
    const tensors = tf.tidy(() => {
      const output = run.call(this.backbone, images, this.chains.runner(true));
      key = output.key;
      return { ...output.tensors };
    });
    return { kind: 'frozen-output', key, tensors };
  }

  /**
   * Whether a gradient can reach anything before the head: the whole backbone, with the methods'
   * parameters, as one unit of the shared frozen-part rule (`frozenUnits`). Methods act through their
   * parameters, so sites need not be asked.
   */
  private trainsBeforeHead(): boolean {
    const body = { name: 'body', inputs: [], parameters: this.parameters.list().filter((p) => p.owner !== 'head'), sites: [] };
    return frozenUnits([body], () => false).size === 0;
  }

  /** Logits `[B, numClasses]` (training mode enables dropout/drop-path). Call inside a tidy or dispose the result. */
  forward(images: BackboneInput, options: { training?: boolean } = {}): tf.Tensor2D {
    const features = this.features(images, options);
    const logits = tf.add(tf.matMul(features, this.parameters.variable('head.weight') as tf.Tensor2D), this.parameters.variable('head.bias')) as tf.Tensor2D;
    features.dispose();
    return logits;
  }

  /** Inference logits with bounded memory (chunked by `batchSize`, one tidy per backbone stage). */
  predict(images: BackboneInput, options: PredictOptions = {}): tf.Tensor2D {
    const n = inputBatchSize(images);
    const size = options.batchSize ?? n;
    if (size >= n) return tf.tidy(() => this.forward(images));
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < n; start += size) {
      const count = Math.min(size, n - start);
      parts.push(tf.tidy(() => this.forward(sliceInput(images, start, count))));
    }
    const out = tf.concat(parts, 0);
    for (const p of parts) p.dispose();
    return out;
  }

  /** Parameters the optimizer updates: the methods', the head's and any unfrozen backbone parameters. */
  trainableParameters(): Parameter[] {
    return this.parameters.trainable();
  }

  /** The trainable tf.Variables, to pass as the optimizer's var list (frozen weights then get no gradient). */
  trainableVariables(): tf.Variable[] {
    return this.trainableParameters().map((p) => p.variable);
  }

  /** Parameter counts per owner and as a share of the backbone. */
  summary(): ModelSummary {
    return summarize(this.parameters.list(), this.methods.map((m) => m.name));
  }

  /** {@link summary} as a text table. */
  summaryTable(): string {
    return formatSummary(this.summary());
  }

  /** True when any module is currently merged into the base weights. */
  get isMerged(): boolean {
    return this.chains.modules().some((m) => m.merged);
  }

  /**
   * Folds every mergeable module (LoRA, BitFit-style and SSF-style) into the backbone's weights, so
   * inference runs at the backbone's cost. Other methods (prompts, adapters) keep running.
   */
  merge(): MergeReport {
    const merged = new Set<string>();
    const kept = new Set<string>();
    for (const attached of this.chains.modules()) {
      if (attached.merged) {
        merged.add(attached.owner);
        continue;
      }
      if (attached.module.merge) {
        attached.module.merge();
        attached.merged = true;
        merged.add(attached.owner);
      } else {
        kept.add(attached.owner);
      }
    }
    for (const m of this.methods) if (m.definition.select && !m.definition.create) merged.add(m.name);
    return { merged: [...merged], kept: [...kept].filter((k) => !merged.has(k)) };
  }

  /** Undoes {@link merge}, restoring the base weights (up to float rounding). */
  unmerge(): void {
    for (const attached of [...this.chains.modules()].reverse()) {
      if (!attached.merged) continue;
      if (!attached.module.unmerge) throw new VpeftError(`"${attached.owner}" at ${attached.site.name} was merged but cannot be unmerged`);
      attached.module.unmerge();
      attached.merged = false;
    }
  }

  /**
   * Saves the adapter to `dir` in a registered format: vpeft's own by default (`adapter_config.json` +
   * `adapter.safetensors` with the trainable tensors only), others by name (e.g. `'peft'`).
   */
  async saveAdapter(dir: string, options: { format?: string } = {}): Promise<void> {
    await getAdapterFormat(options.format ?? VPEFT_ADAPTER_FORMAT).save(this, dir);
  }

  /** Loads an adapter saved from a model with the same methods and backbone into this model (vpeft's format by default). */
  async loadAdapter(dir: string, options: { format?: string } = {}): Promise<void> {
    const format = getAdapterFormat(options.format ?? VPEFT_ADAPTER_FORMAT);
    if (!format.loadInto) throw new VpeftError(`adapter format "${format.name}" cannot load into an existing model; use loadPeftModel(backbone, dir)`);
    await format.loadInto(this, dir);
  }

  /**
   * Frees the head's and the methods' variables. The backbone stays usable (it may be shared);
   * pass `{ backbone: true }` to free it too.
   */
  dispose(options: { backbone?: boolean } = {}): void {
    for (const p of this.parameters.list()) if (p.owner !== 'backbone') this.parameters.remove(p.name);
    if (options.backbone) this.backbone.dispose();
  }
}
