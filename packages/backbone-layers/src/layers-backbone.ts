import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  identitySiteRunner,
  ParameterStore,
  VpeftError,
  type Backbone,
  type BackboneConfig,
  type BackboneForwardOptions,
  type InputNormalization,
  type ParameterRole,
  type SiteInfo,
  type SiteRunner,
  convRole,
  frozenUnits,
  TapRecorder,
  withoutGradient,
  isFrozenOutput,
  type BackboneInput,
  type FrozenOutput,
  type FrozenPartInfo,
  type NoFrozenPart,
} from '@vpeft/core';

/** Options for {@link LayersModelBackbone}. */
export interface LayersModelBackboneOptions {
  /** Name reported in configs and adapters, e.g. `mobilenet_v2`. */
  name: string;
  /**
   * The layer whose output is the pre-logits feature vector (flattened to `[B, D]`). Layers after it
   * (the original classifier) are dropped. Default: the input of the last run of Dense layers.
   */
  featuresLayer?: string;
  /**
   * Layers whose outputs are offered to side networks as `tap` sites named `<layer>.output`
   * (detached, read-only). Default: every residual `Add` layer (the block outputs of a ResNet or
   * MobileNetV2) and the features layer.
   */
  taps?: readonly string[];
  /**
   * The input normalisation the model's weights expect (see `Backbone.inputNormalization`).
   * Default: none declared, i.e. the benchmark's ImageNet mean/std.
   */
  inputNormalization?: InputNormalization;
}

/** Config of a {@link LayersModelBackbone}; stored in adapters to check they match. */
export interface LayersBackboneConfig extends BackboneConfig {
  readonly arch: 'layers-model';
  readonly name: string;
  readonly featuresLayer: string;
  readonly inputShape: readonly [number, number, number];
  readonly layerCount: number;
}

interface Node {
  layer: tfl.layers.Layer;
  inputs: string[];
  kind: 'conv' | 'linear' | 'norm' | 'other';
  /** Set for Conv2D layers run as a plain `tf.conv2d` (see `runPlainConv`). */
  plainConv?: PlainConv;
  /** Names of the layer's parameters in the store. */
  params: string[];
}

/** The part of the graph a training pass can run off the tape, and its outputs the rest consumes. */
interface FrozenPart {
  nodes: Set<string>;
  frontier: string[];
}

const CONV = new Set(['Conv2D', 'DepthwiseConv2D']);

function roleOf(weightName: string): ParameterRole {
  if (weightName === 'kernel' || weightName === 'depthwise_kernel') return 'weight';
  if (weightName === 'bias') return 'bias';
  if (weightName === 'gamma') return 'norm-weight';
  if (weightName === 'beta') return 'norm-bias';
  return 'other';
}

/**
 * A backbone over any functional tfjs LayersModel (Keras-converted CNNs). Layers run through their
 * own `apply`, so Keras semantics are kept; vpeft sites wrap Conv2D and DepthwiseConv2D (`conv`,
 * kernels HWIO), Dense (`linear`) and BatchNormalization (`norm`) layers, plus `features`.
 * BatchNormalization always runs in inference mode (moving statistics, never updated): a frozen
 * backbone must not re-estimate its statistics on a fine-tuning batch. Parameter names are
 * `<layer>.<weight>` (e.g. `block_1_expand.kernel`, `bn_Conv1.beta`); moving statistics are kept as
 * role `other`, so no method selects them by role.
 */
export class LayersModelBackbone implements Backbone {
  readonly specificationVersion = 'v1' as const;
  readonly config: LayersBackboneConfig;
  readonly parameters = new ParameterStore();
  readonly inputShape: readonly [number, number, number];
  readonly featureDim: number;
  readonly inputNormalization?: InputNormalization;
  private readonly nodes: Node[];
  private readonly inputName: string;
  private readonly siteList: SiteInfo[];
  private readonly consumers = new Map<string, number>();
  /** Tap site names (`<layer>.output`) in forward order. */
  private readonly tapNames: string[];

  constructor(readonly model: tfl.LayersModel, options: LayersModelBackboneOptions) {
    if (model.inputs.length !== 1) throw new VpeftError(`${options.name}: expected a model with one input, got ${model.inputs.length}`);
    const shape = model.inputs[0]!.shape;
    if (shape.length !== 4 || shape.slice(1).some((d) => d == null)) {
      throw new VpeftError(`${options.name}: expected an NHWC image input with fixed size, got [${shape.join(', ')}]`);
    }
    this.inputShape = [shape[1]!, shape[2]!, shape[3]!];
    if (options.inputNormalization) this.inputNormalization = options.inputNormalization;
    const byName = new Map(model.layers.map((l) => [l.name, l]));
    const inboundOf = (layer: tfl.layers.Layer): string[] => {
      const nodes = (layer as unknown as { inboundNodes: Array<{ inboundLayers: tfl.layers.Layer[] }> }).inboundNodes;
      if (nodes.length > 1) throw new VpeftError(`${options.name}: layer "${layer.name}" is shared (called ${nodes.length} times); shared layers are not supported`);
      return nodes.length ? nodes[0]!.inboundLayers.map((l) => l.name) : [];
    };
    const featuresLayer = options.featuresLayer ?? defaultFeaturesLayer(model, inboundOf);
    if (!byName.has(featuresLayer)) {
      throw new VpeftError(`${options.name}: featuresLayer "${featuresLayer}" is not a layer of the model; layers end with ${model.layers.slice(-6).map((l) => l.name).join(', ')}`);
    }
    // Keep only the layers the features depend on (the original classifier is dropped).
    const needed = new Set<string>();
    const stack = [featuresLayer];
    while (stack.length) {
      const name = stack.pop()!;
      if (needed.has(name)) continue;
      needed.add(name);
      stack.push(...inboundOf(byName.get(name)!));
    }
    this.inputName = model.inputLayers[0]!.name;
    this.nodes = model.layers
      .filter((l) => needed.has(l.name) && l.name !== this.inputName)
      .map((layer) => {
        const cls = layer.getClassName();
        const kind = CONV.has(cls) ? 'conv' : cls === 'Dense' ? 'linear' : cls === 'BatchNormalization' ? 'norm' : 'other';
        const plainConv = plainConvOf(layer);
        return { layer, inputs: inboundOf(layer), kind, params: [], ...(plainConv ? { plainConv } : {}) } satisfies Node;
      });
    for (const node of this.nodes) for (const input of node.inputs) this.consumers.set(input, (this.consumers.get(input) ?? 0) + 1);
    const stageOf = stagesByResolution(this.nodes.map((n) => n.layer));
    for (const node of this.nodes) {
      const stage = stageOf(node.layer);
      for (const weight of node.layer.weights) {
        const short = weight.originalName.split('/').pop()!.replace(/:\d+$/, '');
        const variable = (weight as unknown as { read(): tf.Variable }).read();
        this.parameters.add({ name: `${node.layer.name}.${short}`, variable, role: roleOf(short), owner: 'backbone', trainable: false, ...(stage === undefined ? {} : { stage }) });
        node.params.push(`${node.layer.name}.${short}`);
      }
    }
    const featureShape = byName.get(featuresLayer)!.outputShape as (number | null)[];
    this.featureDim = featureShape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
    this.config = { arch: 'layers-model', name: options.name, featuresLayer, inputShape: this.inputShape, layerCount: this.nodes.length };
    const tapLayers = new Set(options.taps ?? this.nodes.filter((n) => n.layer.getClassName() === 'Add').map((n) => n.layer.name).concat(featuresLayer));
    for (const name of tapLayers) {
      if (!needed.has(name) || name === this.inputName) {
        throw new VpeftError(`${options.name}: tap layer "${name}" is not a layer the features depend on; use layer names such as ${this.nodes.slice(-4).map((n) => n.layer.name).join(', ')}`);
      }
    }
    const taps = this.nodes.filter((n) => tapLayers.has(n.layer.name)).map((n): SiteInfo => {
      const shape = n.layer.outputShape as (number | null)[];
      return { name: `${n.layer.name}.output`, kind: 'tap', dim: shape[shape.length - 1] ?? 0 };
    });
    this.tapNames = taps.map((t) => t.name);
    this.siteList = [...this.nodes.flatMap((n) => siteOf(n, this.parameters, stageOf(n.layer))), ...taps, { name: 'features', kind: 'features', role: 'head-input', dim: this.featureDim }];
  }

  sites(): SiteInfo[] {
    return [...this.siteList];
  }

  private checkImages(input: BackboneInput): tf.Tensor4D {
    const images = input as tf.Tensor4D;
    const [h, w, c] = this.inputShape;
    if (images.rank !== 4 || images.shape[1] !== h || images.shape[2] !== w || images.shape[3] !== c) {
      throw new VpeftError(`${this.config.name}: images must be [B, ${h}, ${w}, ${c}] (NHWC float32), got [${images.shape.join(', ')}]`);
    }
    return images;
  }

  forward(input: BackboneInput, options: BackboneForwardOptions = {}): tf.Tensor2D {
    const training = options.training ?? false;
    const sites = options.sites ?? identitySiteRunner;
    const images = isFrozenOutput(input) ? undefined : this.checkImages(input);
    const run = () => {
      const values = new Map<string, tf.Tensor>(images ? [[this.inputName, images]] : []);
      const taps = new TapRecorder(sites, this.tapNames);
      // A frozen part's output (a feature cache) resumes after it; training runs the frozen part off the tape.
      const frozen = images ? (training ? this.frozenNodes(sites) : undefined) : this.resumeAfterFrozenPart(input as FrozenOutput, training ? sites : undefined, values, taps);
      try {
        if (frozen && images) this.runOffTape(images, frozen, values, sites, taps);
        // Inference frees activations as soon as their last consumer ran; training keeps them for the tape.
        this.runNodes(values, sites, training, !training, (name) => !frozen?.nodes.has(name), taps);
      } catch (error) {
        taps.dispose();
        throw error;
      }
      taps.run();
      const out = values.get(this.config.featuresLayer)!;
      const flat = tf.reshape(out, [out.shape[0]!, this.featureDim]) as tf.Tensor2D;
      return sites.run<'features'>('features', flat, (t) => t);
    };
    return training ? run() : tf.tidy(run);
  }

  /** Runs the nodes `runs` selects, in order, into `values`; with `free`, drops each activation after its last consumer. */
  private runNodes(values: Map<string, tf.Tensor>, sites: SiteRunner, training: boolean, free: boolean, runs: (name: string) => boolean, taps: TapRecorder): void {
    const remaining = new Map(this.consumers);
    for (const node of this.nodes) {
      const name = node.layer.name;
      if (!runs(name)) continue;
      const inputs = node.inputs.map((input) => values.get(input)!);
      const value = this.runLayer(node, inputs.length === 1 ? inputs[0]! : inputs, sites, training);
      values.set(name, value);
      taps.record(`${name}.output`, value);
      if (!free) continue;
      for (const input of node.inputs) {
        const left = remaining.get(input)! - 1;
        remaining.set(input, left);
        if (left === 0 && input !== this.inputName) values.get(input)!.dispose();
      }
    }
  }

  /**
   * The nodes a training pass need not tape: those that neither hold a trainable parameter, nor
   * have an active site, nor depend on a node that does — typically the stem and early blocks when
   * methods sit on the last blocks. No gradient can reach them, so keeping their activations for the
   * tape would only cost memory (the 112x112 and 56x56 maps of a MobileNetV2). Undefined when the
   * runner cannot tell which sites are active, or when every node is live.
   */
  private frozenNodes(sites: SiteRunner): FrozenPart | undefined {
    if (!sites.active) return undefined;
    const units = this.nodes.map((node) => ({
      name: node.layer.name,
      inputs: node.inputs,
      parameters: node.params.map((name) => this.parameters.get(name)),
      sites: [node.layer.name],
    }));
    const nodes = frozenUnits(units, (name) => sites.active!(name));
    if (nodes.size === 0) return undefined;
    const frontier = new Set<string>();
    for (const node of this.nodes) {
      if (!nodes.has(node.layer.name)) for (const input of node.inputs) if (nodes.has(input)) frontier.add(input);
    }
    if (nodes.has(this.config.featuresLayer)) frontier.add(this.config.featuresLayer);
    return { nodes, frontier: [...frontier] };
  }

  /** The start of this backbone's {@link FrozenPartInfo.key}s. */
  private frozenKeyPrefix(): string {
    return `layers:${this.config.name}:${this.config.layerCount}:frontier=`;
  }

  /**
   * The frozen part of a training pass with these sites (see the private `frozenNodes`): the layers
   * no gradient reaches, when no dropout among them makes their output random in training.
   */
  frozenPart(sites: SiteRunner): FrozenPartInfo | NoFrozenPart {
    if (!sites.active) return { reason: 'the site runner cannot tell which sites are active' };
    const frozen = this.frozenNodes(sites);
    if (!frozen) return { reason: `a method acts in (or trains) the first layer, ${this.nodes[0]?.layer.name ?? ''}` };
    const random = this.nodes.find((n) => frozen.nodes.has(n.layer.name) && /Dropout|GaussianNoise/.test(n.layer.getClassName()));
    if (random) return { reason: `${random.layer.getClassName()} layer ${random.layer.name} makes the frozen layers' output random in training` };
    const all = frozen.nodes.size === this.nodes.length;
    const description = all ? `the whole ${this.config.name} up to ${this.config.featuresLayer}` : `${frozen.nodes.size} of ${this.nodes.length} layers of ${this.config.name} (up to ${frozen.frontier.join(', ')})`;
    return { key: `${this.frozenKeyPrefix()}${frozen.frontier.join(',')}`, description };
  }

  /** The output of {@link frozenPart} for `images` (as inference computes it; call in a tidy or dispose it). */
  runFrozenPart(images: tf.Tensor4D, sites: SiteRunner): FrozenOutput {
    const part = this.frozenPart(sites);
    if ('reason' in part) throw new VpeftError(`${this.config.name}: no frozen part to run: ${part.reason}`);
    const frozen = this.frozenNodes(sites)!;
    const values = new Map<string, tf.Tensor>();
    const taps = new TapRecorder(sites, this.tapNames);
    this.runOffTape(this.checkImages(images), frozen, values, sites, taps);
    const tensors: Record<string, tf.Tensor> = {};
    for (const name of frozen.frontier) tensors[`node:${name}`] = values.get(name)!;
    for (const tap of taps.take()) tensors[`tap:${tap.name}`] = tap.value;
    return { kind: 'frozen-output', key: part.key, tensors };
  }

  /**
   * Puts a {@link FrozenOutput}'s frontier activations (copies) into `values` and its taps into
   * `taps`; returns the frozen part, so the pass runs only the layers after it.
   */
  private resumeAfterFrozenPart(input: FrozenOutput, trainingSites: SiteRunner | undefined, values: Map<string, tf.Tensor>, taps: TapRecorder): FrozenPart {
    const prefix = this.frozenKeyPrefix();
    if (!input.key.startsWith(prefix)) throw new VpeftError(`${this.config.name}: a frozen output of another backbone (key ${input.key.slice(0, 80)})`);
    const frontier = input.key.slice(prefix.length).split(',');
    // The frozen layers: the frontier and everything it depends on (a frozen layer's inputs are frozen).
    const byName = new Map(this.nodes.map((n) => [n.layer.name, n]));
    const nodes = new Set<string>();
    const stack = [...frontier];
    while (stack.length) {
      const name = stack.pop()!;
      if (nodes.has(name) || !byName.has(name)) continue;
      nodes.add(name);
      stack.push(...byName.get(name)!.inputs);
    }
    const now = trainingSites ? this.frozenNodes(trainingSites) : undefined;
    if (trainingSites && (!now || [...nodes].some((name) => !now.nodes.has(name)))) {
      throw new VpeftError(`${this.config.name}: a method now acts in (or trains) a layer of the cached frozen part; recompute it (or turn the feature cache off)`);
    }
    for (const name of frontier) {
      const value = input.tensors[`node:${name}`];
      if (!value) throw new VpeftError(`${this.config.name}: the frozen output lacks the activation of ${name}`);
      values.set(name, tf.clone(value));
    }
    for (const [name, value] of Object.entries(input.tensors)) if (name.startsWith('tap:')) taps.record(name.slice(4), value);
    return { nodes, frontier };
  }

  /**
   * Runs the frozen part as in inference (off the tape, activations freed early) and puts its
   * frontier into `values`. `withoutGradient` returns one tensor, so several frontier activations
   * travel packed in one flat tensor and are sliced apart after.
   */
  private runOffTape(images: tf.Tensor4D, frozen: FrozenPart, values: Map<string, tf.Tensor>, sites: SiteRunner, taps: TapRecorder): void {
    const shapes: number[][] = [];
    const packed = withoutGradient(images, () => tf.tidy(() => {
      const inner = new Map<string, tf.Tensor>([[this.inputName, images]]);
      // Training semantics inside (dropout stays active); nothing here is taped, so activations are
      // freed after their last consumer, as in inference (the frontier has live consumers: it stays).
      this.runNodes(inner, sites, true, true, (name) => frozen.nodes.has(name), taps);
      const outs = frozen.frontier.map((name) => inner.get(name)!);
      for (const out of outs) shapes.push(out.shape);
      return outs.length === 1 ? outs[0]! : tf.concat(outs.map((out) => tf.reshape(out, [-1])));
    }));
    if (frozen.frontier.length === 1) {
      values.set(frozen.frontier[0]!, packed);
      return;
    }
    let offset = 0;
    frozen.frontier.forEach((name, i) => {
      const size = tf.util.sizeFromShape(shapes[i]!);
      values.set(name, tf.reshape(tf.slice(packed, [offset], [size]), shapes[i]!));
      offset += size;
    });
  }

  private runLayer(node: Node, x: tf.Tensor | tf.Tensor[], sites: NonNullable<BackboneForwardOptions['sites']>, training: boolean): tf.Tensor {
    const apply = (t: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown> = {}) => node.layer.apply(t, kwargs) as tf.Tensor;
    switch (node.kind) {
      case 'conv': {
        const conv = node.plainConv;
        const base = conv ? (t: tf.Tensor4D) => this.runPlainConv(node.layer.name, conv, t) : (t: tf.Tensor4D) => apply(t) as tf.Tensor4D;
        return sites.run<'conv'>(node.layer.name, x as tf.Tensor4D, base);
      }
      case 'linear': {
        const input = x as tf.Tensor;
        if (input.rank !== 2) throw new VpeftError(`${this.config.name}: Dense layer "${node.layer.name}" got rank ${input.rank}; only 2-D Dense inputs are supported`);
        return sites.run<'linear'>(node.layer.name, input as tf.Tensor2D, (t) => apply(t) as tf.Tensor2D);
      }
      case 'norm':
        return sites.run<'norm'>(node.layer.name, x as tf.Tensor, (t) => apply(t, { training: false }));
      default:
        return apply(x, { training });
    }
  }

  /**
   * A linear-activation Conv2D as `tf.conv2d` (+ bias). Keras' Conv2D goes through `tf.fused.conv2d`,
   * whose custom gradient computes the filter gradient eagerly, even for a frozen kernel: on a
   * MobileNetV2 BitFit step that is 34 needless Conv2DBackpropFilter calls. `tf.conv2d`'s registered
   * gradient computes only what the tape needs. Same values.
   */
  private runPlainConv(name: string, conv: PlainConv, x: tf.Tensor4D): tf.Tensor4D {
    const y = tf.conv2d(x, this.parameters.variable(`${name}.kernel`) as tf.Tensor4D, conv.strides, conv.padding, 'NHWC', conv.dilations);
    return conv.bias ? tf.add(y, this.parameters.variable(`${name}.bias`)) : y;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** A Conv2D that {@link LayersModelBackbone} runs as a plain `tf.conv2d`. */
interface PlainConv {
  strides: [number, number];
  padding: 'same' | 'valid';
  dilations: [number, number];
  bias: boolean;
}

/** The plain-conv form of a layer: a 2-D, channels-last Conv2D with linear activation; else undefined. */
function plainConvOf(layer: tfl.layers.Layer): PlainConv | undefined {
  if (layer.getClassName() !== 'Conv2D') return undefined;
  const cfg = layer.getConfig() as Record<string, unknown>;
  const pair = (v: unknown): [number, number] | undefined =>
    typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [Number(v[0]), Number(v[1])] : undefined;
  const strides = pair(cfg.strides);
  const dilations = pair(cfg.dilationRate ?? 1);
  const padding = cfg.padding;
  const linear = cfg.activation === undefined || cfg.activation === null || cfg.activation === 'linear';
  if (!strides || !dilations || (padding !== 'same' && padding !== 'valid') || !linear) return undefined;
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') return undefined;
  return { strides, padding, dilations, bias: Boolean(cfg.useBias) };
}

/**
 * Stages of a CNN by spatial resolution: the distinct output heights of the image-shaped (rank-4)
 * layers, largest first — the stem's resolution is stage 0, each downsampling starts the next.
 * Layers with flat outputs (Dense) have no stage.
 */
function stagesByResolution(layers: readonly tfl.layers.Layer[]): (layer: tfl.layers.Layer) => number | undefined {
  const heightOf = (layer: tfl.layers.Layer) => {
    const shape = layer.outputShape as (number | null)[];
    return shape.length === 4 && typeof shape[1] === 'number' ? shape[1] : undefined;
  };
  const heights = [...new Set(layers.map(heightOf).filter((h): h is number => h !== undefined))].sort((a, b) => b - a);
  return (layer) => {
    const h = heightOf(layer);
    return h === undefined ? undefined : heights.indexOf(h);
  };
}

function siteOf(node: Node, store: ParameterStore, stage: number | undefined): SiteInfo[] {
  const { layer } = node;
  const name = layer.name;
  const place = stage === undefined ? {} : { stage };
  const has = (w: string) => (store.has(`${name}.${w}`) ? `${name}.${w}` : undefined);
  const cfg = layer.getConfig() as Record<string, unknown>;
  if (node.kind === 'conv') {
    const depthwise = layer.getClassName() === 'DepthwiseConv2D';
    const kernel = store.variable(`${name}.${depthwise ? 'depthwise_kernel' : 'kernel'}`);
    const [kh, kw, inC, outOrMult] = kernel.shape as [number, number, number, number];
    const activation = String(cfg.activation ?? 'linear');
    return [{
      name,
      kind: 'conv',
      role: convRole([kh, kw], depthwise ? inC : 1, inC),
      ...place,
      inFeatures: inC,
      outFeatures: depthwise ? inC * outOrMult : outOrMult,
      kernelSize: [kh, kw],
      strides: cfg.strides as [number, number],
      padding: cfg.padding as 'same' | 'valid',
      groups: depthwise ? inC : 1,
      weight: `${name}.${depthwise ? 'depthwise_kernel' : 'kernel'}`,
      bias: has('bias'),
      ...(activation !== 'linear' ? { activation } : {}),
    } as SiteInfo];
  }
  if (node.kind === 'linear') {
    const kernel = store.variable(`${name}.kernel`);
    return [{ name, kind: 'linear', role: 'dense', inFeatures: kernel.shape[0], outFeatures: kernel.shape[1], weight: `${name}.kernel`, bias: has('bias') }];
  }
  if (node.kind === 'norm') {
    const beta = has('beta');
    const gamma = has('gamma');
    const dim = store.variable((beta ?? gamma ?? `${name}.moving_mean`)!).shape[0]!;
    return [{ name, kind: 'norm', role: 'norm', ...place, dim, weight: gamma, bias: beta }];
  }
  return [];
}

/** The input of the trailing run of Dense/Dropout layers (the original classifier). */
function defaultFeaturesLayer(model: tfl.LayersModel, inboundOf: (l: tfl.layers.Layer) => string[]): string {
  const layers = model.layers;
  let i = layers.length - 1;
  while (i > 0 && ['Dense', 'Dropout', 'Activation', 'Softmax'].includes(layers[i]!.getClassName())) i--;
  if (i === layers.length - 1) return layers[i]!.name;
  const firstHead = layers[i + 1]!;
  return inboundOf(firstHead)[0] ?? layers[i]!.name;
}
