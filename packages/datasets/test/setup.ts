// Tensors need a tfjs backend; datasets does not depend on @vpeft/core, so register the pure-JS cpu backend here.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

createRequire(import.meta.url)('@tensorflow/tfjs-backend-cpu');
await tf.setBackend('cpu');
