/**
 * `@vpeft/core/testing`: the conformance suite every method package runs, plus small fixtures
 * (a tiny randomised ViT, seeded batches) and comparison helpers for tests.
 */
// The suite saves and loads adapters on disk: Node's file system, as core's Node entry installs it.
import '../io/node-file-system';
export { describeMethodConformance, type ConformanceOptions } from './conformance';
export { describeBackboneConformance, type BackboneConformanceOptions } from './backbone-conformance';
export { describeAttentionSiteConformance, describeTapConformance, type SiteContractOptions } from './site-contracts';
export { describeFrozenPartConformance, type FrozenPartCase, type FrozenPartConformanceOptions } from './frozen-part';
export { createTestViT, randomBatch, snapshot, snapshotAsync, read, maxAbsDiff, bitEqual } from './fixtures';
export { runWithAndWithoutFusedAttention, largestRelativeDifference, type AttentionPathRun } from './fused-attention';
export { trainSteps, trainStepsAsync, trainStep, type TrainStepsOptions } from './train-steps';
