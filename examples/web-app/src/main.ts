// Every installed method registers itself with core's registry on import; the page lists the registry.
import '@vpeft/method-adapter';
import '@vpeft/method-bitfit';
import '@vpeft/method-fact';
import '@vpeft/method-lora';
import '@vpeft/method-prefix';
import '@vpeft/method-repadapter';
import '@vpeft/method-side';
import '@vpeft/method-ssf';
import '@vpeft/method-vpt';
import { getMethod, type BackendChoice, type PeftModel } from '@vpeft/core';
import { listAdaptersInBrowser, loadAdapterFromBrowser, saveAdapterInBrowser } from './adapter-store';
import { BACKEND_CHOICES, describeRuntime, startBackend } from './backend';
import { TrainingChart } from './chart';
import { BACKBONES, MNIST_VIT, type BackboneChoice } from './backbones';
import { decodeFile, loadBundledDigits, Task } from './data';
import { downloadFiles } from './download';
import { adapterBackboneName, adapterFiles, classify, confusion, exportAdapter, importAdapter, inputsOf, logits, methodsFor, trainModel, type MethodFit } from './model';
import { snapshot, thumbnail, type Picture } from './preprocess';
import { renderConfusion, renderPredictions, trainableSummary } from './views';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const task = new Task();
const chart = new TrainingChart($<HTMLCanvasElement>('chart'));
let model: PeftModel | undefined;
let backbone: BackboneChoice = MNIST_VIT;
let busy = false;

function setStatus(id: string, text: string, isError = false): void {
  const element = $(id);
  element.textContent = text;
  element.classList.toggle('error', isError);
  element.classList.toggle('muted', !isError);
}

/** Runs a UI action, showing its error in `statusId` instead of throwing. */
async function guarded(statusId: string, action: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  document.querySelectorAll('button').forEach((b) => (b.disabled = true));
  try {
    await action();
  } catch (error) {
    setStatus(statusId, (error as Error).message, true);
  } finally {
    busy = false;
    document.querySelectorAll('button').forEach((b) => (b.disabled = false));
  }
}

// Backend: ?backend=webgpu|webgl|wasm|cpu, else auto (webgpu on a hardware adapter > webgl > wasm).
const requested = (new URLSearchParams(location.search).get('backend') ?? 'auto') as BackendChoice | 'auto';
const backendSelect = $<HTMLSelectElement>('backend-select');
for (const choice of BACKEND_CHOICES) backendSelect.add(new Option(choice, choice, false, choice === requested));
backendSelect.onchange = () => {
  const url = new URL(location.href);
  url.searchParams.set('backend', backendSelect.value);
  location.href = url.toString();
};
const backendReady = startBackend(requested).then(
  (info) => {
    setStatus('backend-info', describeRuntime(info));
    return info;
  },
  (error: Error) => {
    setStatus('backend-info', error.message, true);
    throw error;
  },
);

// 1. Backbone and classes.
const backboneSelect = $<HTMLSelectElement>('backbone');
for (const choice of BACKBONES) backboneSelect.add(new Option(choice.label, choice.name, false, choice === backbone));

/** Makes `choice` the backbone: the current model (made on another backbone) is dropped, the methods re-checked. */
async function useBackbone(choice: BackboneChoice): Promise<void> {
  backbone = choice;
  backboneSelect.value = choice.name;
  $('backbone-description').textContent = choice.description;
  if (model && model.backbone.config.name !== choice.name) {
    model.dispose({ backbone: true });
    model = undefined;
  }
  await backendReady;
  showMethods(await methodsFor(choice));
}
backboneSelect.onchange = () => guarded('backbone-status', () => useBackbone(BACKBONES.find((b) => b.name === backboneSelect.value)!));

function renderClasses(): void {
  const container = $('classes');
  container.replaceChildren();
  task.classNames.forEach((name, label) => {
    const card = document.createElement('div');
    card.className = 'class-card';
    card.dataset.label = String(label);
    const title = document.createElement('h3');
    title.textContent = name;
    const counts = document.createElement('div');
    counts.className = 'muted';
    counts.textContent = `${task.count(label, 'train')} train · ${task.count(label, 'test')} held out`;
    card.append(title, counts);
    for (const image of task.images.filter((i) => i.label === label).slice(0, 12)) {
      const img = document.createElement('img');
      img.src = image.thumbnail;
      card.append(img);
    }
    const picker = document.createElement('input');
    picker.type = 'file';
    picker.multiple = true;
    picker.accept = 'image/*';
    picker.hidden = true;
    picker.onchange = () => addFiles(label, picker.files ?? []);
    card.append(picker);
    card.onclick = () => picker.click();
    card.ondragover = (event) => {
      event.preventDefault();
      card.classList.add('over');
    };
    card.ondragleave = () => card.classList.remove('over');
    card.ondrop = (event) => {
      event.preventDefault();
      card.classList.remove('over');
      void addFiles(label, event.dataTransfer?.files ?? []);
    };
    container.append(card);
  });
}

async function addFiles(label: number, files: Iterable<File> | ArrayLike<File>): Promise<void> {
  for (const file of Array.from(files)) {
    if (!file.type.startsWith('image/')) continue;
    task.addImage(label, await decodeFile(file));
  }
  renderClasses();
}

$('load-digits').onclick = () => {
  loadBundledDigits(task);
  renderClasses();
};
$('add-class').onclick = () => {
  const input = $<HTMLInputElement>('new-class-name');
  try {
    task.addClass(input.value);
    input.value = '';
    renderClasses();
  } catch (error) {
    input.setCustomValidity((error as Error).message);
    input.reportValidity();
    input.setCustomValidity('');
  }
};

// 2. Method, from the registry: each is tried on the backbone; those that do not apply are listed, disabled.
const methodSelect = $<HTMLSelectElement>('method');
function showMethods(fits: readonly MethodFit[]): void {
  const previous = methodSelect.value || 'lora';
  methodSelect.replaceChildren(...fits.map((f) => Object.assign(new Option(f.applies ? f.name : `${f.name} (does not apply)`, f.name), { disabled: !f.applies, title: f.reason ?? '' })));
  const usable = fits.filter((f) => f.applies).map((f) => f.name);
  methodSelect.value = usable.includes(previous) ? previous : usable.includes('lora') ? 'lora' : (usable[0] ?? '');
  const refused = fits.filter((f) => !f.applies);
  $('method-fit').textContent = `${usable.length} of ${fits.length} methods apply to ${backbone.name}: ${usable.join(', ')}${refused.length ? `; not: ${refused.map((f) => f.name).join(', ')}` : ''}`;
  $('method-fit').dataset.applies = usable.join(',');
  $('method-reasons').hidden = !refused.length;
  $('method-reasons-list').replaceChildren(...refused.map((f) => Object.assign(document.createElement('li'), { textContent: f.reason })));
  showMethod();
}
function showMethod(): void {
  if (!methodSelect.value) return;
  const definition = getMethod(methodSelect.value);
  $('method-description').textContent = `${definition.description ?? ''} (${definition.packageName ?? 'unknown package'} ${definition.version}, ${definition.category})`;
  $<HTMLTextAreaElement>('method-options').value = JSON.stringify(definition.defaults, null, 2);
}
methodSelect.onchange = showMethod;
const methodsListed = new Promise<void>((resolve) => void guarded('backbone-status', () => useBackbone(backbone)).then(resolve));

// 3-4. Train, then evaluate on the held-out images.
$('train').onclick = () =>
  guarded('train-status', async () => {
    await backendReady;
    const train = task.split('train');
    const test = task.split('test');
    if (task.classNames.length < 2) throw new Error('add at least two classes (or use the bundled task)');
    const empty = task.classNames.filter((_, label) => task.count(label, 'train') === 0);
    if (empty.length) throw new Error(`class ${empty.map((n) => `"${n}"`).join(', ')} has no training images`);
    let options: Record<string, unknown>;
    try {
      options = JSON.parse($<HTMLTextAreaElement>('method-options').value) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`method options are not valid JSON: ${(error as Error).message}`);
    }
    const epochs = Number($<HTMLInputElement>('epochs').value);
    const batchSize = Number($<HTMLInputElement>('batch-size').value);
    const learningRate = Number($<HTMLInputElement>('learning-rate').value);
    chart.reset(epochs * Math.ceil(train.length / batchSize));
    setStatus('train-status', `training ${methodSelect.value} on ${train.length} images, ${epochs} epochs…`);
    const started = performance.now();
    model?.dispose({ backbone: true });
    model = undefined;
    const result = await trainModel({
      backbone,
      method: methodSelect.value,
      options,
      classNames: [...task.classNames],
      train,
      test,
      epochs,
      batchSize,
      learningRate,
      onProgress(event) {
        chart.addLoss(event.loss);
        $('stat-step').textContent = `${event.step}/${event.totalSteps}`;
        $('stat-loss').textContent = event.loss.toFixed(3);
        $('stat-speed').textContent = event.imagesPerSecond.toFixed(1);
      },
      onEvaluation(record) {
        chart.addAccuracy(record.step, record.top1);
        $('stat-accuracy').textContent = `${(100 * record.top1).toFixed(1)}%`;
      },
    });
    model = result.model;
    $('stat-params').textContent = trainableSummary(model);
    setStatus('train-status', `done in ${((performance.now() - started) / 1000).toFixed(1)} s; ${result.imagesPerSecond.toFixed(1)} img/s of training step time`);
    await showEvaluation(model);
  });

async function showEvaluation(current: PeftModel): Promise<void> {
  const test = task.split('test');
  if (!test.length || task.classNames.length !== current.numClasses) {
    setStatus('eval-summary', 'no held-out images of these classes to evaluate on');
    $('confusion').replaceChildren();
    return;
  }
  const { matrix, accuracy } = await confusion(current, backbone, test);
  setStatus('eval-summary', `accuracy ${(100 * accuracy).toFixed(1)}% on ${test.length} held-out images (chance ${(100 / current.numClasses).toFixed(1)}%)`);
  $('eval-summary').dataset.accuracy = String(accuracy);
  renderConfusion($<HTMLTableElement>('confusion'), matrix, current.classNames ?? task.classNames);
}

// 5. Adapter: download, and load from picked files.
$('export').onclick = () =>
  guarded('adapter-status', async () => {
    if (!model) throw new Error('train a model (or load an adapter) first');
    const files = await exportAdapter(model);
    downloadFiles(files);
    setStatus('adapter-status', `downloaded ${Object.entries(files).map(([name, bytes]) => `${name} (${(bytes.byteLength / 1024).toFixed(1)} kB)`).join(' + ')}`);
  });
/** Loads an adapter, on the backbone it was made for when the page has it (else the chosen one, which then says it does not match). */
async function useAdapter(source: Parameters<typeof adapterFiles>[0]): Promise<void> {
  const files = await adapterFiles(source);
  const wanted = BACKBONES.find((b) => b.name === adapterBackboneName(files));
  if (wanted && wanted !== backbone) await useBackbone(wanted);
  const loaded = await importAdapter(backbone, files);
  model?.dispose({ backbone: true });
  model = loaded;
  setStatus('adapter-status', `loaded: ${loaded.methods.map((m) => m.definition.name).join(' + ')}, ${loaded.numClasses} classes (${(loaded.classNames ?? []).join(', ')}); ${trainableSummary(loaded)}`);
  await showEvaluation(loaded);
}
$<HTMLInputElement>('adapter-files').onchange = (event) =>
  guarded('adapter-status', async () => {
    const input = event.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    input.value = '';
    await useAdapter(files);
  });

// ... and kept in this browser (IndexedDB).
async function listKept(): Promise<void> {
  const select = $<HTMLSelectElement>('saved-adapters');
  select.replaceChildren(...(await listAdaptersInBrowser()).map((name) => new Option(name, name)));
}
void listKept();
$('save-browser').onclick = () =>
  guarded('adapter-status', async () => {
    if (!model) throw new Error('train a model (or load an adapter) first');
    const name = $<HTMLInputElement>('adapter-name').value.trim() || `${model.methods.map((m) => m.name).join('+')} ${new Date().toISOString().slice(0, 19)}`;
    await saveAdapterInBrowser(name, await exportAdapter(model));
    await listKept();
    $<HTMLSelectElement>('saved-adapters').value = name;
    setStatus('adapter-status', `kept in this browser as "${name}"`);
  });
$('load-browser').onclick = () =>
  guarded('adapter-status', async () => {
    const name = $<HTMLSelectElement>('saved-adapters').value;
    if (!name) throw new Error('no adapter is kept in this browser yet');
    await useAdapter(await loadAdapterFromBrowser(name));
  });

// 6. Classify new images: picked files or camera frames.
async function showPredictions(pictures: Picture[]): Promise<void> {
  if (!model) throw new Error('train a model (or load an adapter) first');
  const predictions = await classify(model, backbone, pictures.map((p) => backbone.prepare(p)));
  renderPredictions($('predictions'), pictures.map(thumbnail), predictions, model.classNames ?? []);
}
$<HTMLInputElement>('classify-files').onchange = (event) =>
  guarded('adapter-status', async () => {
    const input = event.target as HTMLInputElement;
    const pictures = await Promise.all(Array.from(input.files ?? []).map(decodeFile));
    input.value = '';
    await showPredictions(pictures);
  });
$('camera').onclick = () =>
  guarded('adapter-status', async () => {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('no camera here (it needs a secure context and a device)');
    const stream = await navigator.mediaDevices.getUserMedia({ video: true }).catch((error: Error) => {
      throw new Error(`the camera is not available: ${error.message}`);
    });
    const video = $<HTMLVideoElement>('video');
    video.srcObject = stream;
    video.hidden = false;
    $('snap').hidden = false;
  });
$('snap').onclick = () => guarded('adapter-status', () => showPredictions([snapshot($<HTMLVideoElement>('video'))]));

/** The float32 values as base64 (a compact way to hand large inputs to the browser tests). */
function base64Of(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * A console API (and the browser tests' handle): the current model's logits for inputs as the
 * current backbone takes them (28x28 grey for the ViT, 224x224x3 RGB for the MobileNetV2, flattened),
 * and the first `count` held-out images' inputs (base64 float32, NHWC) with the model's logits.
 */
Object.assign(globalThis, {
  vpeft: {
    /** The backend, once the page is ready (backend up, the backbone's methods listed). */
    backend: methodsListed.then(() => backendReady),
    logits: async (inputs: number[][]) => {
      if (!model) throw new Error('no model');
      return logits(model, backbone, inputs);
    },
    heldOut: async (count: number) => {
      if (!model) throw new Error('no model');
      const inputs = inputsOf(backbone, task.split('test').slice(0, count));
      const flat = new Float32Array(inputs.reduce((n, i) => n + i.length, 0));
      inputs.forEach((input, i) => flat.set(input, i * input.length));
      return { backbone: backbone.name, count: inputs.length, inputs: base64Of(flat), logits: await logits(model, backbone, inputs) };
    },
  },
});
