/**
 * @vpeft/core — the spec every vpeft package builds on: backend selection, parameters and freezing,
 * sites and transforms, the method contract (`defineMethod`) and registry, `compose`, `applyPeft` /
 * `PeftModel`, the ViT backbone and safetensors I/O.
 */
// Node's file system and backend environment, installed on import (the browser entry has neither).
import './io/node-file-system';
import './backend/node-backend-environment';

export * from './browser';
export { writeFileAtomic } from './io/atomic-write';
export { nodeFileSystem } from './io/node-file-system';
export { NODE_BACKEND_ENVIRONMENT } from './backend/node-backend-environment';
