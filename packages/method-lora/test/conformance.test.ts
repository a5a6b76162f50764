import { describeMethodConformance } from '@vpeft/core/testing';
import { lora } from '../src/index';
import { TinyConvBackbone } from './tiny-conv-backbone';

// The shared matrix (only LoRA + head train, step-0 identity, merge equivalence, vpeft save/load
// with only LoRA + head tensors in the file, flat tensor count) for each LoRA variant.
describeMethodConformance({ name: 'lora q/v slices (default)', methods: () => lora() });
describeMethodConformance({ name: 'lora whole qkv', methods: () => lora({ slices: 'all' }) });
describeMethodConformance({
  name: 'lora on every linear site (patch_embed, qkv, proj, fc1, fc2)',
  methods: () => lora({ r: 2, targets: ['patch_embed.proj', 'blocks.*.attn.{qkv,proj}', 'blocks.*.mlp.fc{1,2}'] }),
});
describeMethodConformance({ name: 'lora alpha != r, trunc-normal init, dropout', methods: () => lora({ r: 4, alpha: 16, init: 'trunc-normal', dropout: 0.1 }) });
describeMethodConformance({
  name: 'lora on conv sites of a hand-made CNN',
  methods: () => lora({ r: 2, alpha: 3, targets: ['conv*'] }),
  backbone: (seed) => new TinyConvBackbone(seed),
});
describeMethodConformance({ name: 'dora on the q/v slices (each slice decomposed on its own)', methods: () => lora({ dora: true, r: 4 }) });
describeMethodConformance({ name: 'dora on the whole qkv and fc1, rslora, dropout', methods: () => lora({ dora: true, slices: 'all', rslora: true, alpha: 6, dropout: 0.1, targets: ['blocks.*.attn.qkv', 'blocks.*.mlp.fc1'] }) });
describeMethodConformance({
  name: 'dora on conv sites of a hand-made CNN',
  methods: () => lora({ r: 2, alpha: 3, dora: true, targets: ['conv*'] }),
  backbone: (seed) => new TinyConvBackbone(seed),
});
