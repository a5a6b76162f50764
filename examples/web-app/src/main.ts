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
import { getMethod, listMethods, type BackendChoice, type PeftModel } from '@vpeft/core';
import { listAdaptersInBrowser, loadAdapterFromBrowser, saveAdapterInBrowser } from './adapter-store';
import { BACKEND_CHOICES, describeRuntime, startBackend } from './backend';
import { TrainingChart } from './chart';
import { fileToGrey28, loadBundledDigits, Task, thumbnail, toGrey28 } from './data';
import { downloadFiles } from './download';
import { classify, confusion, exportAdapter, importAdapter, logits, MNIST_VIT, trainModel } from './model';
import { renderConfusion, renderPredictions, trainableSummary } from './views';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const task = new Task();
const chart = new TrainingChart($<HTMLCanvasElement>('chart'));
let model: PeftModel | undefined;
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
backboneSelect.add(new Option(MNIST_VIT.name, MNIST_VIT.name));
$('backbone-description').textContent = MNIST_VIT.description;

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
      img.src = thumbnail(image.pixels);
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
    task.addImage(label, await fileToGrey28(file));
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

// 2. Method, from the registry.
const methodSelect = $<HTMLSelectElement>('method');
for (const name of listMethods()) methodSelect.add(new Option(name, name, false, name === 'lora'));
function showMethod(): void {
  const definition = getMethod(methodSelect.value);
  $('method-description').textContent = `${definition.description ?? ''} (${definition.packageName ?? 'unknown package'} ${definition.version}, ${definition.category})`;
  $<HTMLTextAreaElement>('method-options').value = JSON.stringify(definition.defaults, null, 2);
}
methodSelect.onchange = showMethod;
showMethod();

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
      backbone: MNIST_VIT,
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
  const { matrix, accuracy } = await confusion(current, test);
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
async function useAdapter(source: Parameters<typeof importAdapter>[1]): Promise<void> {
  const loaded = await importAdapter(MNIST_VIT, source);
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
async function showPredictions(pixels: Float32Array[]): Promise<void> {
  if (!model) throw new Error('train a model (or load an adapter) first');
  const predictions = await classify(model, pixels);
  renderPredictions($('predictions'), pixels.map(thumbnail), predictions, model.classNames ?? []);
}
$<HTMLInputElement>('classify-files').onchange = (event) =>
  guarded('adapter-status', async () => {
    const input = event.target as HTMLInputElement;
    const pixels = await Promise.all(Array.from(input.files ?? []).map(fileToGrey28));
    input.value = '';
    await showPredictions(pixels);
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
$('snap').onclick = () => guarded('adapter-status', () => showPredictions([toGrey28($<HTMLVideoElement>('video'))]));

/** A console API (and the browser tests' handle): the current model's logits for 28x28 grey images. */
Object.assign(globalThis, {
  vpeft: {
    backend: backendReady,
    logits: async (pixels: number[][]) => {
      if (!model) throw new Error('no model');
      return logits(model, pixels);
    },
  },
});
