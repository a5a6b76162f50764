import { describeMethodConformance } from '@vpeft/core/testing';
import { ssf } from '../src/index';
import { tinyLayersCnn } from './tiny-layers-cnn';

// The shared matrix: only SSF's vectors + head train; not the identity at init (N(1, 0.02) / N(0, 0.02))
// but the identity at scale 1 / shift 0; merge equivalence; save/load; flat tensor count.
describeMethodConformance({ name: 'ssf (reference placement and init)', methods: () => ssf(), mergeable: true });
describeMethodConformance({ name: 'ssf std 0 (identity at init)', methods: () => ssf({ std: 0, targets: ['blocks.*.mlp.fc1', 'norm'] }), mergeable: true });
describeMethodConformance({
  name: 'ssf on a Keras CNN (after BatchNorms and a linear 1x1 conv)',
  methods: () => ssf({ targets: ['conv_bn', 'dw_bn', 'project'], std: 0.1 }),
  backbone: tinyLayersCnn,
  mergeable: true,
});
