// A user's program with only @vpeft/core, @vpeft/method-lora and @vpeft/backend-wasm installed (from
// their packed tarballs): build a tiny ViT, apply LoRA, train one step, save the adapter. Prints one
// JSON line the install test reads. No Node API is used, so it type-checks against the shipped .d.ts alone.
import * as tf from '@tensorflow/tfjs-core';
import { applyPeft, createViT, initBackend } from '@vpeft/core';
import { lora } from '@vpeft/method-lora';

const backend = await initBackend();
const vit = createViT('vit_test_patch8_32');
const model = applyPeft(vit, lora({ r: 2 }), { numClasses: 3, seed: 1 });
const variables = model.trainableVariables();
// LoRA's B starts at zero (the step-0 output is the backbone's); one step must move it.
const loraB = model.trainableParameters().filter((p) => p.name.includes('lora_B'));
const before = loraB.map((p) => tf.sum(tf.abs(p.variable)).dataSync()[0]);

const images = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
const targets = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
const optimizer = tf.train.sgd(0.1);
const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(targets, model.forward(images, { training: true })), true, variables);
const after = loraB.map((p) => tf.sum(tf.abs(p.variable)).dataSync()[0]);

await model.saveAdapter('adapter');
console.log(JSON.stringify({
  backend: backend.choice,
  trainableExcludingHead: model.summary().trainableExcludingHead,
  loss: loss?.dataSync()[0],
  loraBBefore: before,
  loraBAfter: after,
}));
