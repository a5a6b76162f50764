import { createTestViT, describeAttentionSiteConformance, describeTapConformance } from '../src/testing/index';

describeAttentionSiteConformance({ name: 'ViT', backbone: createTestViT });
describeTapConformance({ name: 'ViT', backbone: createTestViT });
