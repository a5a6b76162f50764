import { describeMethodConformance } from '@vpeft/core/testing';
import { bitfit, lnTune, partial } from '../src/index';

describeMethodConformance({ name: 'bitfit', methods: () => bitfit() });
describeMethodConformance({ name: 'ln-tune', methods: () => lnTune() });
describeMethodConformance({ name: 'partial-1', methods: () => partial({ lastBlocks: 1 }) });
describeMethodConformance({ name: 'partial glob', methods: () => partial({ lastBlocks: 0, include: ['blocks.0.attn.**', 'norm.*'] }) });
