import { compose } from '@vpeft/core';
import { describeMethodConformance } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { vpt } from '@vpeft/method-vpt';
import { adapter, adaptformer, convpass } from '../src/index';

describeMethodConformance({ name: 'adapter', methods: () => adapter({ bottleneck: 4 }) });
describeMethodConformance({ name: 'adapter (Houlsby)', methods: () => adapter({ bottleneck: 4, placement: 'houlsby', activation: 'relu' }) });
describeMethodConformance({ name: 'adaptformer', methods: () => adaptformer({ bottleneck: 8, dropout: 0 }) });
describeMethodConformance({ name: 'convpass', methods: () => convpass({ bottleneck: 4, dropout: 0 }) });
// NOAH-style unified model: VPT-deep + LoRA on qkv + an adapter in every block (not zero-init: prompts).
describeMethodConformance({ name: 'NOAH (vpt + lora + adapter)', methods: () => compose(vpt({ tokens: 2, deep: true }), lora({ r: 2, slices: ['all'] }), adapter({ bottleneck: 4 })) });
