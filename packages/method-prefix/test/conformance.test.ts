import { compose } from '@vpeft/core';
import { describeMethodConformance } from '@vpeft/core/testing';
import { lora } from '@vpeft/method-lora';
import { prefix } from '../src/index';

describeMethodConformance({ name: 'prefix', methods: () => prefix({ tokens: 3 }) });
describeMethodConformance({ name: 'prefix with the reparameterisation MLP', methods: () => prefix({ tokens: 2, projection: true, hidden: 16 }) });
describeMethodConformance({ name: 'prefix + LoRA', methods: () => compose(prefix({ tokens: 2 }), lora({ r: 2 })) });
