import { describeMethodConformance } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import '../src/index';

// The method contract on webgpu (Dawn over SwiftShader): trainable-only gradients, merge, save/load,
// flat tensor counts — the same suite the method packages run on wasm.
describeMethodConformance({ name: 'LoRA r=4 on webgpu', methods: () => lora({ r: 4 }), backend: 'webgpu' });
