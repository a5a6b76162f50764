import * as tf from '@tensorflow/tfjs-core';
import {
  applyPeft,
  FileFormatError,
  fileSystem,
  readSafetensors,
  ShapeMismatchError,
  summarizeSiteNames,
  VpeftError,
  writeSafetensors,
  type AdapterFormat,
  type Backbone,
  type PeftModel,
  type SafetensorsTensor,
  type SiteInfo,
  type TensorData,
} from '@vpeft/core';
import { adaptedSlices, LORA_PACKAGE, lora, loraMethod } from '../method';
import { stackedDown, stackedUp, type LoraFactor } from '../transform';
import { adaptsWholeMatrix, type LoraOptions } from '../options';
import { DORA_MAGNITUDE, loraParameterName, type LoraFactorName } from '../parameter-names';
import {
  buildPeftLoraConfig,
  checkPeftLoraConfig,
  PEFT_CONFIG_FILE,
  PEFT_KEY_PREFIX,
  PEFT_PICKLE_WEIGHTS_FILE,
  PEFT_WEIGHTS_FILE,
  peftPatternValue,
  peftTargets,
  type PeftLoraConfig,
} from './peft-config';
import { fromTorchLayout, magnitudeTorchShape, toTorchLayout, torchModuleAt } from './peft-layout';

const FACTORS: readonly LoraFactorName[] = ['lora_A', 'lora_B'];

/** One LoRA instance of the model and the sites it adapts. */
interface ExportedLora {
  name: string;
  options: LoraOptions;
  sites: SiteInfo[];
}

/**
 * The LoRA instances of a model that PEFT's format can hold as one adapter (several instances on
 * disjoint modules become per-module `rank_pattern` / `alpha_pattern` entries); throws saying why not otherwise.
 */
function exportableLoras(model: PeftModel): ExportedLora[] {
  const refuse = (why: string): never => {
    throw new VpeftError(`saveAdapter(format: 'peft'): ${why}`);
  };
  if (model.isMerged) refuse('the model is merged; call unmerge() first (PEFT stores the LoRA factors, not merged weights)');
  const others = model.methods.filter((m) => m.definition.name !== loraMethod.name);
  if (others.length) refuse(`a PEFT LoRA adapter holds LoRA and the head; this model also has ${others.map((m) => `"${m.name}" (${m.definition.name})`).join(', ')}`);
  if (model.methods.length === 0) refuse('the model has no LoRA');
  const unfrozen = model.trainableParameters().filter((p) => p.owner === 'backbone');
  if (unfrozen.length) refuse(`backbone parameters are trainable (${unfrozen.slice(0, 4).map((p) => p.name).join(', ')}), which a PEFT LoRA adapter cannot hold`);
  const owner = new Map<string, string>();
  const exported = model.methods.map((instance) => {
    const options = instance.options as LoraOptions;
    const sites = loraMethod.targets!(model.backbone.sites(), options);
    const sliced = sites.filter((s) => s.kind === 'linear' && s.slices && !adaptsWholeMatrix(options.slices));
    // Slices export losslessly as one LoRA of rank k·r on the whole module (A stacked, B block-structured
    // with zero rows for the other slices).
    if (sliced.length && (sliced.length !== sites.length || options.dora)) {
      refuse(
        `LoRA on the ${JSON.stringify(options.slices)} slices of ${sliced[0]!.name} exports to PEFT as a rank-${(options.slices as string[]).length}·r LoRA on the whole module only when every target is such a fused site and DoRA is off` +
          `; target only the fused sites, train with slices: 'all', or save in vpeft's format`,
      );
    }
    for (const site of sites) {
      const first = owner.get(site.name);
      if (first) refuse(`"${first}" and "${instance.name}" both adapt ${site.name}; one PEFT adapter holds one LoRA per module`);
      owner.set(site.name, instance.name);
    }
    return { name: instance.name, options, sites };
  });
  const [first, ...rest] = exported;
  for (const e of rest) {
    for (const key of ['dropout', 'dora', 'rslora'] as const) {
      if (e.options[key] !== first!.options[key]) {
        refuse(`"${first!.name}" and "${e.name}" differ in ${key} (${String(first!.options[key])} vs ${String(e.options[key])}); one PEFT adapter has one ${key} (only ranks and alphas vary per module)`);
      }
    }
  }
  return exported;
}

/** The most frequent value (the first seen on a tie): PEFT's default, the others go to a pattern. */
function mostFrequent(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
}

/** A site's LoRA factors as PEFT's whole-module `lora_A` `[in, k·r]` / `lora_B` `[k·r, out]` (tfjs layouts). */
function wholeModuleFactors(model: PeftModel, name: string, options: LoraOptions, site: SiteInfo): Record<LoraFactorName, tf.Tensor> {
  const factors: LoraFactor[] = adaptedSlices(site, options).map(({ slice, columns }) => ({
    down: model.parameters.variable(loraParameterName(name, site.name, 'lora_A', slice)),
    up: model.parameters.variable(loraParameterName(name, site.name, 'lora_B', slice)),
    columns,
  }));
  return { lora_A: stackedDown(factors), lora_B: stackedUp(factors, site.outFeatures!) };
}

/** Saves the model's LoRA factors and head as a Hugging Face PEFT adapter (PyTorch layouts, PEFT key names). */
async function savePeft(model: PeftModel, dir: string): Promise<void> {
  const loras = exportableLoras(model);
  const tensors = new Map<string, TensorData>();
  const perModule: Array<{ module: string; rank: number; alpha: number }> = [];
  for (const { name, options, sites } of loras) {
    for (const site of sites) {
      const module = torchModuleAt(site, model.backbone.config);
      const whole = tf.tidy(() => wholeModuleFactors(model, name, options, site));
      const rank = whole.lora_A.shape[whole.lora_A.rank - 1]!;
      // Rank k·r (k slices per module) with the same scale: alpha·k (alpha/r), alpha·√k (rsLoRA, alpha/√r).
      const k = rank / options.r;
      perModule.push({ module: site.name, rank, alpha: options.rslora ? options.alpha * Math.sqrt(k) : options.alpha * k });
      for (const factor of FACTORS) tensors.set(`${PEFT_KEY_PREFIX}${site.name}.${factor}.weight`, toTorchLayout(whole[factor], factor, module));
      tf.dispose(Object.values(whole).filter((t) => !(t instanceof tf.Variable)));
      if (options.dora) {
        const magnitude = model.parameters.variable(loraParameterName(name, site.name, DORA_MAGNITUDE));
        tensors.set(`${PEFT_KEY_PREFIX}${site.name}.${DORA_MAGNITUDE}`, { shape: magnitudeTorchShape(magnitude.shape[0]!, module), data: magnitude.dataSync() as Float32Array });
      }
    }
  }
  const headWeight = tf.tidy(() => tf.transpose(model.parameters.variable('head.weight')));
  tensors.set(`${PEFT_KEY_PREFIX}head.weight`, { shape: headWeight.shape.slice(), data: headWeight.dataSync() as Float32Array });
  headWeight.dispose();
  const headBias = model.parameters.variable('head.bias');
  tensors.set(`${PEFT_KEY_PREFIX}head.bias`, { shape: headBias.shape.slice(), data: headBias.dataSync() as Float32Array });
  const r = mostFrequent(perModule.map((m) => m.rank));
  const alpha = mostFrequent(perModule.map((m) => m.alpha));
  const options = loras[0]!.options;
  const config = buildPeftLoraConfig({
    r,
    alpha,
    dropout: options.dropout,
    targetModules: perModule.map((m) => m.module),
    dora: options.dora,
    rslora: options.rslora,
    // Keyed by full module name: PEFT matches a key against the end of the name at a segment boundary.
    rankPattern: Object.fromEntries(perModule.filter((m) => m.rank !== r).map((m) => [m.module, m.rank])),
    alphaPattern: Object.fromEntries(perModule.filter((m) => m.alpha !== alpha).map((m) => [m.module, m.alpha])),
    baseModel: typeof model.backbone.config.name === 'string' ? model.backbone.config.name : undefined,
  });
  const fs = fileSystem("saveAdapter(format: 'peft')");
  await fs.mkdir(dir);
  await writeSafetensors(fs.join(dir, PEFT_WEIGHTS_FILE), tensors, { format: 'pt' });
  await fs.writeFileAtomic(fs.join(dir, PEFT_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

async function readPeftConfig(file: string): Promise<PeftLoraConfig> {
  let text: string;
  try {
    text = new TextDecoder().decode(await fileSystem("loadAdapter(format: 'peft')").readFile(file));
  } catch (error) {
    throw new FileFormatError(file, `cannot read the PEFT adapter config (${(error as { code?: string }).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text) as PeftLoraConfig;
  } catch (error) {
    throw new FileFormatError(file, `is not valid JSON: ${(error as Error).message}`);
  }
}

async function readPeftWeights(dir: string): Promise<{ file: string; tensors: Map<string, SafetensorsTensor> }> {
  const fs = fileSystem("loadAdapter(format: 'peft')");
  const file = fs.join(dir, PEFT_WEIGHTS_FILE);
  if (!(await fs.exists(file)) && (await fs.exists(fs.join(dir, PEFT_PICKLE_WEIGHTS_FILE)))) {
    throw new FileFormatError(
      fs.join(dir, PEFT_PICKLE_WEIGHTS_FILE),
      `pickle weights are not read (unsafe and PyTorch-specific); save the adapter with safe_serialization=True to get ${PEFT_WEIGHTS_FILE}`,
    );
  }
  if (!(await fs.exists(file))) throw new FileFormatError(file, `is missing: a PEFT LoRA adapter holds ${PEFT_CONFIG_FILE} and ${PEFT_WEIGHTS_FILE} (save it with safe_serialization=True)`);
  return { file, tensors: (await readSafetensors(file)).tensors };
}

/** The adapter's tensors by module: LoRA factors per module, and the head. */
function groupPeftTensors(tensors: Map<string, SafetensorsTensor>, file: string) {
  const factors = new Map<string, Partial<Record<LoraFactorName | typeof DORA_MAGNITUDE, SafetensorsTensor>>>();
  const head: { weight?: SafetensorsTensor; bias?: SafetensorsTensor } = {};
  for (const [key, tensor] of tensors) {
    if (!key.startsWith(PEFT_KEY_PREFIX)) throw new FileFormatError(file, `key "${key}" does not start with "${PEFT_KEY_PREFIX}" (not a PEFT adapter?)`);
    const name = key.slice(PEFT_KEY_PREFIX.length);
    // PEFT saves DoRA magnitudes as `<module>.lora_magnitude_vector` (the module's `.weight` stripped).
    const lora = /^(.+)\.(lora_A|lora_B)\.weight$/.exec(name) ?? /^(.+)\.(lora_magnitude_vector)(?:\.weight)?$/.exec(name);
    if (lora) {
      const entry = factors.get(lora[1]!) ?? {};
      entry[lora[2] as LoraFactorName | typeof DORA_MAGNITUDE] = tensor;
      factors.set(lora[1]!, entry);
    } else if (name === 'head.weight' || name === 'head.bias') {
      head[name === 'head.weight' ? 'weight' : 'bias'] = tensor;
    } else {
      throw new FileFormatError(file, `unexpected tensor "${key}": only LoRA factors (<module>.lora_A.weight / lora_B.weight), DoRA magnitudes (<module>.lora_magnitude_vector) and the head are supported`);
    }
  }
  return { factors, head };
}

/** Builds a LoRA PeftModel on `backbone` from a Hugging Face PEFT adapter directory. */
async function loadPeft(backbone: Backbone, dir: string): Promise<PeftModel> {
  const configFile = fileSystem("loadAdapter(format: 'peft')").join(dir, PEFT_CONFIG_FILE);
  const config = await readPeftConfig(configFile);
  checkPeftLoraConfig(config, configFile);
  const { file, tensors } = await readPeftWeights(dir);
  const { factors, head } = groupPeftTensors(tensors, file);

  const candidates = backbone.sites().filter((s) => s.kind === 'linear' || s.kind === 'conv');
  const targeted = candidates.filter((s) => peftTargets(s.name, config));
  const siteList = summarizeSiteNames(candidates.map((s) => s.name));
  if (targeted.length === 0) {
    const layers = config.layers_to_transform === undefined || config.layers_to_transform === null ? '' : ` in layers ${JSON.stringify(config.layers_to_transform)}`;
    throw new FileFormatError(configFile, `target_modules ${JSON.stringify(config.target_modules)}${layers} matches no linear or conv site of this backbone; it has ${siteList}`);
  }
  const targetedNames = new Set(targeted.map((s) => s.name));
  const stray = [...factors.keys()].filter((m) => !targetedNames.has(m));
  if (stray.length) {
    throw new FileFormatError(file, `LoRA weights for ${stray.slice(0, 4).join(', ')}, which target_modules does not select among this backbone's linear/conv sites (${siteList})`);
  }
  const incomplete = targeted.filter((s) => !factors.get(s.name)?.lora_A || !factors.get(s.name)?.lora_B).map((s) => s.name);
  if (incomplete.length) throw new FileFormatError(file, `missing lora_A/lora_B weights for target module(s) ${incomplete.slice(0, 4).join(', ')}`);
  const dora = config.use_dora === true;
  const magnitudes = targeted.filter((s) => factors.get(s.name)?.[DORA_MAGNITUDE] !== undefined).map((s) => s.name);
  if (dora && magnitudes.length !== targeted.length) {
    const missing = targeted.filter((s) => !magnitudes.includes(s.name)).map((s) => s.name);
    throw new FileFormatError(file, `use_dora is true but ${DORA_MAGNITUDE} is missing for target module(s) ${missing.slice(0, 4).join(', ')}`);
  }
  if (!dora && magnitudes.length) throw new FileFormatError(file, `${DORA_MAGNITUDE} weights for ${magnitudes.slice(0, 4).join(', ')} but use_dora is not true in ${PEFT_CONFIG_FILE}`);
  if (!head.weight || !head.bias) {
    throw new FileFormatError(file, `no classification head (${PEFT_KEY_PREFIX}head.weight and .bias, saved with modules_to_save ["head"]); a vpeft model needs one`);
  }
  const [numClasses, featureDim] = head.weight.shape as [number, number];
  if (head.weight.shape.length !== 2 || featureDim !== backbone.featureDim) {
    throw new ShapeMismatchError(`${PEFT_KEY_PREFIX}head.weight`, [numClasses, backbone.featureDim], head.weight.shape, file);
  }
  if (head.bias.shape.join(',') !== String(numClasses)) throw new ShapeMismatchError(`${PEFT_KEY_PREFIX}head.bias`, [numClasses], head.bias.shape, file);

  // One LoRA instance per (rank, alpha) that rank_pattern / alpha_pattern give the modules; the
  // default one keeps the name "lora".
  const groups = new Map<string, { r: number; alpha: number; sites: SiteInfo[] }>();
  for (const site of targeted) {
    const r = peftPatternValue(config.rank_pattern, site.name, config.r);
    const alpha = peftPatternValue(config.alpha_pattern, site.name, config.lora_alpha);
    const key = `${r}/${alpha}`;
    groups.set(key, { r, alpha, sites: [...(groups.get(key)?.sites ?? []), site] });
  }
  const instances = [...groups.values()].map(({ r, alpha, sites }) => ({
    sites,
    instance: lora(
      { r, alpha, dropout: config.lora_dropout ?? 0, targets: sites.map((s) => s.name), slices: 'all', dora, rslora: config.use_rslora === true },
      r === config.r && alpha === config.lora_alpha ? undefined : { name: `lora-r${r}-alpha${alpha}` },
    ),
  }));
  const model = applyPeft(backbone, instances.map((i) => i.instance), { numClasses });
  try {
    for (const { instance, sites } of instances) {
      for (const site of sites) {
        const module = torchModuleAt(site, backbone.config);
        for (const factor of FACTORS) {
          const variable = model.parameters.variable(loraParameterName(instance.name, site.name, factor));
          const value = fromTorchLayout(factors.get(site.name)![factor]!, variable.shape, factor, module, `${PEFT_KEY_PREFIX}${site.name}.${factor}.weight`, file);
          variable.assign(value);
          value.dispose();
        }
        if (dora) {
          const variable = model.parameters.variable(loraParameterName(instance.name, site.name, DORA_MAGNITUDE));
          const stored = factors.get(site.name)![DORA_MAGNITUDE]!;
          const key = `${PEFT_KEY_PREFIX}${site.name}.${DORA_MAGNITUDE}`;
          const want = magnitudeTorchShape(variable.shape[0]!, module);
          if (stored.shape.join(',') !== want.join(',')) throw new ShapeMismatchError(key, want, stored.shape, file);
          const value = tf.tensor1d(stored.data);
          variable.assign(value);
          value.dispose();
        }
      }
    }
    const weight = tf.tidy(() => tf.transpose(tf.tensor2d(head.weight!.data, [numClasses, featureDim])));
    model.parameters.variable('head.weight').assign(weight);
    weight.dispose();
    const bias = tf.tensor1d(head.bias.data);
    model.parameters.variable('head.bias').assign(bias);
    bias.dispose();
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** True when `dir` holds a Hugging Face PEFT adapter config (any `peft_type`; non-LoRA ones are refused on load). */
async function detectPeft(dir: string): Promise<boolean> {
  try {
    const fs = fileSystem('loadPeftModel');
    const config = JSON.parse(new TextDecoder().decode(await fs.readFile(fs.join(dir, PEFT_CONFIG_FILE)))) as Record<string, unknown>;
    return typeof config.peft_type === 'string' && config.format !== 'vpeft-adapter';
  } catch {
    return false;
  }
}

/**
 * Hugging Face PEFT's LoRA adapter format (`adapter_config.json` + `adapter_model.safetensors`,
 * keys `base_model.model.<module>.lora_A.weight` `[r, in]` / `lora_B.weight` `[out, r]`, conv
 * modules `[r, in, kh, kw]` / `[out, r, 1, 1]`, the head under `base_model.model.head.*` in PyTorch
 * layout). Registered as `'peft'`: `model.saveAdapter(dir, { format: 'peft' })`, and
 * `loadPeftModel(backbone, dir)` detects it.
 */
export const peftAdapterFormat: AdapterFormat = {
  name: 'peft',
  packageName: LORA_PACKAGE,
  save: savePeft,
  detect: detectPeft,
  load: loadPeft,
};
