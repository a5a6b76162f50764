import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterModelConfig,
  applyAdapterConfig,
  applyPeft,
  createViT,
  adapterFilesFromBlobs,
  adapterToFiles,
  FileFormatError,
  fileSystem,
  getAdapterFormat,
  initBackend,
  listAdapterFormats,
  loadAdapterFromFiles,
  loadPeftModel,
  peftModelFromFiles,
  registerAdapterFormat,
  registerMethod,
  setFileSystem,
  unregisterAdapterFormat,
  unregisterMethod,
  vpeftAdapterFormat,
  VpeftError,
  type AdapterConfig,
  type AdapterFormat,
  type PeftModel,
} from '../src/index';
import { outputScale } from './fixtures/test-methods';

beforeAll(async () => {
  await initBackend();
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-adapter-io-'));
  registerMethod(outputScale);
});
afterEach(async () => {
  unregisterMethod(outputScale.name);
  await rm(dir, { recursive: true, force: true });
});

/** The test ViT with output scales, its trainable values moved off their initialisation. */
function trainedModel(): PeftModel {
  const model = applyPeft(createViT('vit_test_patch8_32', { seed: 4 }), outputScale.configure({ targets: ['blocks.*.mlp.fc1', 'blocks.1.attn.proj'] }), { numClasses: 3, seed: 9 });
  model.trainableParameters().forEach((p, i) => tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.3, 'float32', i)))));
  return model;
}

const images = () => tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;

describe('vpeft adapter format', () => {
  it('writes the config (methods by name, package and options) and only the trainable tensors, with their checksum', async () => {
    const model = trainedModel();
    await model.saveAdapter(dir);
    expect((await readdir(dir)).sort()).toEqual([ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE].sort());
    const config = JSON.parse(await readFile(join(dir, ADAPTER_CONFIG_FILE), 'utf8')) as AdapterConfig;
    expect(config).toMatchObject({ format: 'vpeft-adapter', formatVersion: 1, numClasses: 3, seed: 9, backbone: { arch: 'vit', name: 'vit_test_patch8_32' } });
    expect(config.methods).toEqual([{
      method: 'core-test-scale', name: 'core-test-scale', version: '1.0.0', packageName: '@example/core-test-scale',
      options: { targets: ['blocks.*.mlp.fc1', 'blocks.1.attn.proj'] },
    }]);
    expect(Object.keys(config.tensors).sort()).toEqual(model.trainableParameters().map((p) => p.name).sort());
    expect(config.tensors['core-test-scale.blocks.1.attn.proj.scale']).toEqual({ owner: 'core-test-scale', shape: [32] });
    expect(config.weightsSha256).toBe(createHash('sha256').update(await readFile(join(dir, ADAPTER_WEIGHTS_FILE))).digest('hex'));
    expect(adapterModelConfig(model)).toEqual({ backbone: config.backbone, numClasses: 3, seed: 9, methods: config.methods });
    model.dispose({ backbone: true });
  });

  it('loads by detection into a model that predicts the same logits, and loadAdapter fills an existing model', async () => {
    const model = trainedModel();
    await model.saveAdapter(dir);
    const x = images();
    const expected = model.predict(x);
    const loaded = await loadPeftModel(createViT('vit_test_patch8_32', { seed: 4 }), dir);
    const actual = loaded.predict(x);
    expect(Array.from(actual.dataSync())).toEqual(Array.from(expected.dataSync()));
    const rebuilt = applyAdapterConfig(createViT('vit_test_patch8_32', { seed: 4 }), adapterModelConfig(model));
    await rebuilt.loadAdapter(dir);
    const again = rebuilt.predict(x);
    expect(Array.from(again.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, expected, actual, again]);
    for (const m of [model, loaded, rebuilt]) m.dispose({ backbone: true });
  });

  it('refuses a weights file that does not match its config, another backbone, and an unregistered method (naming its package)', async () => {
    const model = trainedModel();
    await model.saveAdapter(dir);
    const weights = join(dir, ADAPTER_WEIGHTS_FILE);
    const bytes = await readFile(weights);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(weights, bytes);
    const tensors = tf.memory().numTensors;
    const cases: Array<[ReturnType<typeof createViT>, RegExp]> = [
      [createViT('vit_test_patch8_32', { seed: 4 }), /adapter\.safetensors: does not match adapter_config\.json \(checksum differs/],
      [createViT({ base: 'vit_test_patch8_32', depth: 1 }), /another backbone: depth 2 \(adapter\) vs 1 \(given\)/],
    ];
    for (const [backbone, message] of cases) {
      await expect(loadPeftModel(backbone, dir)).rejects.toThrow(message);
      backbone.dispose();
    }
    const backbone = createViT('vit_test_patch8_32', { seed: 4 });
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(FileFormatError);
    unregisterMethod(outputScale.name);
    await expect(loadPeftModel(backbone, dir)).rejects.toThrow(/method "core-test-scale" is not registered; install and import @example\/core-test-scale/);
    backbone.dispose();
    // The failed loads freed every tensor they made.
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose({ backbone: true });
  });
});

describe('adapter format registry', () => {
  const marker = 'custom_adapter.txt';
  const custom: AdapterFormat = {
    name: 'core-test-format',
    packageName: '@example/core-test-format',
    async save(model, target) {
      await writeFile(join(target, marker), JSON.stringify(adapterModelConfig(model)));
    },
    detect: (target) => readFile(join(target, marker)).then(() => true, () => false),
    async load(backbone, target) {
      return applyAdapterConfig(backbone, JSON.parse(await readFile(join(target, marker), 'utf8')));
    },
  };
  afterEach(() => {
    unregisterAdapterFormat(custom.name);
  });

  it('has vpeft\'s own format registered first, as a format like any other', () => {
    expect(listAdapterFormats()[0]).toBe(vpeftAdapterFormat);
    expect(getAdapterFormat('vpeft')).toBe(vpeftAdapterFormat);
  });

  it('saves and loads through a registered format by name or by detection', async () => {
    registerAdapterFormat(custom);
    registerAdapterFormat(custom);
    const model = trainedModel();
    await model.saveAdapter(dir, { format: 'core-test-format' });
    expect(await readdir(dir)).toEqual([marker]);
    const byDetection = await loadPeftModel(createViT('vit_test_patch8_32', { seed: 4 }), dir);
    expect(byDetection.methods.map((m) => m.name)).toEqual(['core-test-scale']);
    await expect(byDetection.loadAdapter(dir, { format: 'core-test-format' })).rejects.toThrow(/cannot load into an existing model/);
    for (const m of [model, byDetection]) m.dispose({ backbone: true });
  });

  it('refuses a second format under a taken name, and names the registered ones for an unknown name or directory', async () => {
    registerAdapterFormat(custom);
    expect(() => registerAdapterFormat({ ...custom, packageName: '@example/other' })).toThrow(/adapter format "core-test-format" is already registered by @example\/core-test-format/);
    expect(() => getAdapterFormat('nope')).toThrow(/adapter format "nope" is not registered .*; registered: vpeft.*core-test-format/);
    const vit = createViT('vit_test_patch8_32');
    await writeFile(join(dir, ADAPTER_CONFIG_FILE), JSON.stringify({ kind: 'someone-elses-adapter' }));
    await expect(loadPeftModel(vit, dir)).rejects.toThrow(/adapter_config\.json: no registered adapter format recognises it \(tried vpeft.*core-test-format\)/);
    vit.dispose();
  });

  it('says why a directory is not an adapter: missing, no adapter_config.json, or a damaged one (all FileFormatError)', async () => {
    const model = trainedModel();
    await model.saveAdapter(dir);
    const config = await readFile(join(dir, ADAPTER_CONFIG_FILE), 'utf8');
    const vit = createViT('vit_test_patch8_32', { seed: 4 });
    const tensors = tf.memory().numTensors;
    // Cut before vpeft's format marker, so no format claims it by its content.
    const cut = config.indexOf('"vpeft-adapter"');
    expect(cut).toBeGreaterThan(0);
    await writeFile(join(dir, ADAPTER_CONFIG_FILE), config.slice(0, cut));
    await expect(loadPeftModel(vit, dir)).rejects.toThrow(/adapter_config\.json: is damaged: not valid JSON \(.*\); save the adapter again/);
    await expect(loadPeftModel(vit, join(dir, 'missing'))).rejects.toThrow(/missing: no such adapter directory/);
    await rm(join(dir, ADAPTER_CONFIG_FILE));
    await expect(loadPeftModel(vit, dir)).rejects.toThrow(/holds no adapter_config\.json, so it is not a saved adapter/);
    await expect(loadPeftModel(vit, dir)).rejects.toThrow(FileFormatError);
    expect(tf.memory().numTensors).toBe(tensors);
    vit.dispose();
    model.dispose({ backbone: true });
  });
});

describe('adapters as in-memory files (the browser path)', () => {
  /** The same methods and backbone as {@link trainedModel}, other head and method values. */
  const sameShapeModel = () =>
    applyPeft(createViT('vit_test_patch8_32', { seed: 4 }), outputScale.configure({ targets: ['blocks.*.mlp.fc1', 'blocks.1.attn.proj'] }), { numClasses: 3, seed: 10 });

  it('are byte for byte what saveAdapter(dir) writes, with the SHA-256 node:crypto computes', async () => {
    const model = trainedModel();
    const { config, files } = await adapterToFiles(model);
    await model.saveAdapter(dir);
    const onDiskWeights = await readFile(join(dir, ADAPTER_WEIGHTS_FILE));
    expect(Buffer.compare(Buffer.from(files[ADAPTER_WEIGHTS_FILE]), onDiskWeights)).toBe(0);
    expect(Buffer.compare(Buffer.from(files[ADAPTER_CONFIG_FILE]), await readFile(join(dir, ADAPTER_CONFIG_FILE)))).toBe(0);
    expect(config.weightsSha256).toBe(createHash('sha256').update(onDiskWeights).digest('hex'));
    model.dispose({ backbone: true });
  });

  it('rebuild the model from picked files (File objects, renamed by a browser) with the same outputs', async () => {
    const model = trainedModel();
    const { files } = await adapterToFiles(model);
    const picked = [new File([files[ADAPTER_WEIGHTS_FILE]], 'adapter (1).safetensors'), new File([files[ADAPTER_CONFIG_FILE]], 'adapter_config (1).json')];
    const loaded = await peftModelFromFiles(createViT('vit_test_patch8_32', { seed: 4 }), await adapterFilesFromBlobs(picked));
    const x = images();
    const [a, b] = [model.predict(x), loaded.predict(x)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose({ backbone: true });
    loaded.dispose({ backbone: true });
  });

  it('load into a model of the same shape, and refuse weights that do not match the config', async () => {
    const source = trainedModel();
    const target = sameShapeModel();
    const { files } = await adapterToFiles(source);
    await loadAdapterFromFiles(target, files);
    const x = images();
    const [a, b] = [source.predict(x), target.predict(x)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    const other = sameShapeModel();
    const otherWeights = (await adapterToFiles(other)).files[ADAPTER_WEIGHTS_FILE];
    await expect(loadAdapterFromFiles(target, { ...files, [ADAPTER_WEIGHTS_FILE]: otherWeights })).rejects.toThrow(FileFormatError);
    tf.dispose([x, a, b]);
    for (const m of [source, target, other]) m.dispose({ backbone: true });
  });

  it('name both files when a pick lacks one', async () => {
    await expect(adapterFilesFromBlobs([new File(['{}'], 'adapter_config.json')])).rejects.toThrow(
      /expected adapter\.safetensors \(or one \.safetensors file\) among adapter_config\.json/,
    );
  });

  it('are the way to save where no file system is installed: a path-taking call says so', async () => {
    const model = trainedModel();
    const previous = setFileSystem(undefined);
    try {
      await expect(model.saveAdapter(dir)).rejects.toThrow(VpeftError);
      await expect(model.saveAdapter(dir)).rejects.toThrow(/saveAdapter needs file access.*adapterToFiles/);
      expect(() => fileSystem('readSafetensors')).toThrow(/readSafetensors needs file access/);
    } finally {
      setFileSystem(previous);
    }
    model.dispose({ backbone: true });
  });
});
