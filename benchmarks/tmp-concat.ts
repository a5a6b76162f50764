import * as tf from '@tensorflow/tfjs-core';
import { createViT, initBackend } from '@vpeft/core';
import { buildSetting } from './lib/settings';
import { createTrainStep } from './lib/train-step';
await initBackend({ backend: 'wasm' });
const vit = createViT('vit_tiny_patch16_224', { seed: 0 });
const built = await buildSetting(vit, 'lora', 10);
const model = (built as unknown as { model: never }).model;
const images = tf.randomNormal([8, 224, 224, 3]) as tf.Tensor4D;
const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10) as tf.Tensor2D;
const step = createTrainStep(model, tf.train.adam(1e-3));
await step(images, labels); await step(images, labels);
for (let r = 0; r < 2; r++) {
const info = await tf.profile(() => step(images, labels));
const agg = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  if (!['Concat', 'SplitV', 'Slice'].includes(k.name)) continue;
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`;
  const a = agg.get(key) ?? { ms: 0, calls: 0 };
  a.ms += k.kernelTimeMs as number; a.calls++;
  agg.set(key, a);
}
for (const [k, a] of [...agg].sort((x, y) => y[1].ms - x[1].ms).slice(0, 6)) console.log(a.ms.toFixed(1).padStart(7), String(a.calls).padStart(4), k);
}
