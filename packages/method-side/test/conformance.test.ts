import { compose } from '@vpeft/core';
import { describeMethodConformance } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { side } from '../src/index';

// The backbone never gets a gradient from the side network, so "only its own parameters train" and
// "the frozen backbone stays bit-identical" hold by construction; off-tape.test.ts checks the rest.
describeMethodConformance({ name: 'side (transformer ladder)', methods: () => side({ reduction: 4 }) });
describeMethodConformance({ name: 'side (mlp ladder, replace)', methods: () => side({ reduction: 2, block: 'mlp', fusion: 'replace', taps: ['blocks.*.output'] }) });
describeMethodConformance({ name: 'side + LoRA', methods: () => compose(side({ reduction: 4 }), lora({ r: 2 })) });
