/**
 * Entry of a data-parallel gradient worker (a worker_threads thread with its own tfjs and wasm heap).
 * Rebuilds the main thread's model from its adapter config, copies the main thread's parameter
 * values, then answers each {@link GradientRequest} with {@link lossGradients} over its share of the
 * batch (or the share's logits in inference mode). Not part of the API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vpeft/core';
import { lossGradients } from '../gradients';
import { flatLayout, readParameters } from './flat-parameters';
import type { GradientReply, GradientRequest, GradientWorkerInit } from './protocol';
import { buildWorkerModel } from './worker-model';

const init = workerData as GradientWorkerInit;
const port = parentPort!;
const reply = (message: GradientReply) => port.postMessage(message);

function sameNames(expected: string[], actual: string[]): void {
  if (expected.join('\n') !== actual.join('\n')) {
    const missing = expected.filter((n) => !actual.includes(n)).slice(0, 5);
    const extra = actual.filter((n) => !expected.includes(n)).slice(0, 5);
    throw new Error('the worker\'s model (rebuilt from the adapter config) has other parameters than the main thread\'s' +
      `${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; extra ${extra.join(', ')}` : ''}${!missing.length && !extra.length ? '; same names, other order' : ''}`);
  }
}

async function setUp(): Promise<(request: GradientRequest) => Promise<GradientReply>> {
  await initBackend({ backend: init.backend, fastKernels: init.fastKernels });
  const model = await buildWorkerModel(init.model);
  const all = model.parameters.list();
  sameNames(init.allNames, all.map((p) => p.name));
  readParameters(all, flatLayout(all), new Float32Array(init.allValues));
  const trainable = init.model.trainableNames.map((name) => model.parameters.get(name));
  const layout = flatLayout(trainable);
  const params = new Float32Array(init.params);
  const grads = new Float32Array(init.grads);
  const variables = trainable.map((p) => p.variable);
  return async (request: GradientRequest): Promise<GradientReply> => {
    readParameters(trainable, layout, params);
    const pixels = request.imageShape[0] * request.imageShape[1] * request.imageShape[2];
    const x = tf.tensor4d(new Float32Array(request.images, request.start * pixels * 4, request.count * pixels), [request.count, ...request.imageShape]);
    if (request.kind === 'logits') {
      const logits = model.predict(x, { batchSize: init.microBatch });
      const values = (await logits.data()) as Float32Array;
      tf.dispose([x, logits]);
      return { kind: 'logits', logits: values };
    }
    const classes = model.numClasses;
    const y = tf.tensor2d(new Float32Array(request.targets!, request.start * classes * 4, request.count * classes), [request.count, classes]);
    const result = await lossGradients(model, x, y, { microBatch: init.microBatch, variables });
    trainable.forEach((p, i) => grads.set(result.grads[p.variable.name]!.dataSync() as Float32Array, layout.entries[i]!.offset));
    tf.dispose([x, y, result.grads]);
    return { kind: 'gradients', loss: result.loss };
  };
}

// No top-level await: the CommonJS build of this entry must compile too.
void (async () => {
  try {
    const run = await setUp();
    port.on('message', async (request: GradientRequest) => {
      try {
        reply(await run(request));
      } catch (error) {
        reply({ kind: 'error', message: (error as Error).stack ?? String(error) });
      }
    });
    reply({ kind: 'ready' });
  } catch (error) {
    reply({ kind: 'error', message: (error as Error).message });
  }
})();
