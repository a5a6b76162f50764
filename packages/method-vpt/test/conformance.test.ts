import { describeMethodConformance } from '@vpeft/core/testing';
import { vpt } from '../src/index';

describeMethodConformance({ name: 'vpt shallow', methods: () => vpt({ tokens: 5 }) });
describeMethodConformance({ name: 'vpt deep', methods: () => vpt({ tokens: 3, deep: true }) });
describeMethodConformance({ name: 'vpt append (NOAH)', methods: () => vpt({ tokens: 3, deep: true, position: 'append', init: 'trunc-normal' }) });
