import { describeBackboneConformance, createTestViT } from '../src/testing/index';

describeBackboneConformance({ name: 'ViT (vit_test_patch8_32)', backbone: createTestViT });
