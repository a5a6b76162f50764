import * as tf from '@tensorflow/tfjs-core';
import { OptionError } from '@vpeft/core';

/** Hyper-parameters of {@link AdamW} (PyTorch's defaults except the learning rate). */
export interface AdamWOptions {
  /** Base learning rate (the schedule scales from it). */
  learningRate: number;
  /** Decoupled weight decay coefficient. Default 0.01 (PyTorch). */
  weightDecay?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
}

/** A variable the optimizer updates: its stable parameter name (for checkpoints) and whether it is decayed. */
export interface AdamWParameter {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly decay: boolean;
}

/** The optimizer's state as plain arrays, keyed by parameter name (for checkpoints). */
export interface AdamWState {
  /** Completed steps (the bias-correction exponent of the next step minus one). */
  step: number;
  firstMoments: Map<string, { shape: number[]; data: Float32Array }>;
  secondMoments: Map<string, { shape: number[]; data: Float32Array }>;
}

/** A tensor with a name, as tfjs optimizers exchange weights and gradients. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  readonly parameter: AdamWParameter;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
}

/**
 * AdamW (Loshchilov & Hutter), exactly as PyTorch's `torch.optim.AdamW` (non-amsgrad): at step
 * `t = 1, 2, ...` with learning rate `lr`,
 * `w ← w·(1 − lr·wd)` for decayed parameters only, then
 * `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
 * `w ← w − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)`.
 *
 * Moments are created eagerly (zeros) for every parameter, so the tensor count is the same before
 * and after the first step. Gradients are matched to parameters by the tf.Variable's name, as
 * `tf.variableGrads` / `Optimizer.minimize` return them. Set {@link learningRate} before each step
 * to follow a schedule; the decay uses the current learning rate, as PyTorch does.
 */
export class AdamW extends tf.Optimizer {
  /** Name for tfjs serialisation. */
  static className = 'AdamW';
  /** Learning rate used by the next step. */
  learningRate: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly slots = new Map<string, Slot>();

  constructor(parameters: readonly AdamWParameter[], options: AdamWOptions) {
    super();
    const o = validateAdamWOptions(options);
    this.learningRate = o.learningRate;
    this.weightDecay = o.weightDecay;
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.epsilon = o.epsilon;
    for (const parameter of parameters) {
      if (this.slots.has(parameter.variable.name)) throw new OptionError('parameters', parameter.name, 'each variable once', 'AdamW');
      const zeros = tf.zerosLike(parameter.variable);
      const m = tf.variable(zeros, false);
      const v = tf.variable(zeros, false);
      zeros.dispose();
      this.slots.set(parameter.variable.name, { parameter, m, v });
    }
  }

  /** Completed steps. */
  get step(): number {
    return this.iterations;
  }

  /**
   * Applies one AdamW step. Gradients for variables this optimizer was not built with are an error;
   * parameters without a gradient are left untouched (as PyTorch skips `grad is None`). The
   * gradients are not disposed.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[string, tf.Tensor]> = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const t = this.iterations + 1;
    const lr = this.learningRate;
    const stepSize = lr / (1 - this.beta1 ** t);
    const secondCorrection = Math.sqrt(1 - this.beta2 ** t);
    tf.tidy(() => {
      for (const [name, gradient] of entries) {
        const slot = this.slots.get(name);
        if (!slot) throw new OptionError('variableGradients', name, `gradients only for the ${this.slots.size} variables AdamW was built with`, 'AdamW');
        const w = slot.parameter.variable;
        const decayed = slot.parameter.decay && this.weightDecay > 0 ? tf.mul(w, 1 - lr * this.weightDecay) : w;
        const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const denominator = tf.add(tf.div(tf.sqrt(v), secondCorrection), this.epsilon);
        const updated = tf.sub(decayed, tf.mul(tf.div(m, denominator), stepSize));
        slot.m.assign(m);
        slot.v.assign(v);
        w.assign(updated);
      }
    });
    this.incrementIterations();
  }

  /** The moments and step count, by parameter name. */
  async exportState(): Promise<AdamWState> {
    const firstMoments = new Map<string, { shape: number[]; data: Float32Array }>();
    const secondMoments = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const { parameter, m, v } of this.slots.values()) {
      firstMoments.set(parameter.name, { shape: m.shape.slice(), data: (await m.data()) as Float32Array });
      secondMoments.set(parameter.name, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    }
    return { step: this.iterations, firstMoments, secondMoments };
  }

  /** Restores state from {@link exportState}; every parameter must be present with its shape. */
  importState(state: AdamWState): void {
    for (const { parameter } of this.slots.values()) {
      for (const [label, moments] of [['first', state.firstMoments], ['second', state.secondMoments]] as const) {
        const saved = moments.get(parameter.name);
        if (!saved) throw new OptionError(`state.${label}Moments`, [...moments.keys()].slice(0, 4), `a moment for "${parameter.name}"`, 'AdamW');
        if (saved.shape.join(',') !== parameter.variable.shape.join(',')) {
          throw new OptionError(`state.${label}Moments["${parameter.name}"].shape`, saved.shape, `[${parameter.variable.shape.join(', ')}]`, 'AdamW');
        }
      }
    }
    for (const { parameter, m, v } of this.slots.values()) {
      const first = state.firstMoments.get(parameter.name)!;
      const second = state.secondMoments.get(parameter.name)!;
      tf.tidy(() => {
        m.assign(tf.tensor(first.data, first.shape, 'float32'));
        v.assign(tf.tensor(second.data, second.shape, 'float32'));
      });
    }
    this.iterations_ = state.step;
  }

  /** tfjs-style weights: the iteration count, then `<name>/m` and `<name>/v` per parameter. */
  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const { parameter, m, v } of this.slots.values()) {
      weights.push({ name: `${parameter.name}/m`, tensor: m }, { name: `${parameter.name}/v`, tensor: v });
    }
    return weights;
  }

  /** Inverse of {@link getWeights}. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const byName = new Map(rest.map((w) => [w.name, w.tensor]));
    for (const { parameter, m, v } of this.slots.values()) {
      const mv = byName.get(`${parameter.name}/m`);
      const vv = byName.get(`${parameter.name}/v`);
      if (mv) m.assign(mv);
      if (vv) v.assign(vv);
    }
  }

  /** Hyper-parameters (tfjs serialisation). */
  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, weightDecay: this.weightDecay, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  /** Frees the moments. */
  override dispose(): void {
    for (const { m, v } of this.slots.values()) {
      m.dispose();
      v.dispose();
    }
    this.slots.clear();
    super.dispose();
  }
}

/** Applies AdamW's defaults and validates each hyper-parameter. */
export function validateAdamWOptions(options: AdamWOptions): Required<AdamWOptions> {
  const resolved = { weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...options };
  const check = (name: keyof AdamWOptions, ok: (v: number) => boolean, allowed: string) => {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new OptionError(`optimizer.${name}`, value, allowed, 'AdamW');
  };
  check('learningRate', (v) => v > 0, 'a finite number > 0');
  check('weightDecay', (v) => v >= 0, 'a finite number >= 0');
  check('beta1', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  check('beta2', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  check('epsilon', (v) => v > 0, 'a finite number > 0');
  return resolved;
}
