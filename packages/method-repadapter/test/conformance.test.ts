import { describeMethodConformance } from '@vpeft/core/testing';
import { repAdapter } from '../src/index';

describeMethodConformance({ name: 'repadapter (repblock: before qkv and fc1; hidden 8, 2 groups, dropout 0.1)', methods: () => repAdapter() });
describeMethodConformance({ name: 'repadapter repattn, 4 groups, scale 5, no dropout', methods: () => repAdapter({ targets: ['blocks.*.attn.qkv'], groups: 4, scale: 5, dropout: 0 }) });
