import { describeMethodConformance } from '@vpeft/core/testing';
import { fact } from '../src/index';

// The shared matrix on the tiny ViT (D 32, MLP 128: fc1/fc2 in 4 chunks as ViT-B's 3072 = 4·768).
describeMethodConformance({ name: 'fact tt (reference defaults: r 8, dropout 0.1)', methods: () => fact() });
describeMethodConformance({ name: 'fact tk, r 4, scale 10, no dropout', methods: () => fact({ variant: 'tk', r: 4, scale: 10, dropout: 0 }) });
describeMethodConformance({ name: 'fact tt on fc1/fc2 of the last block only', methods: () => fact({ r: 2, targets: ['blocks.1.mlp.*'] }) });
