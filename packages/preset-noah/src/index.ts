/**
 * @vpeft/preset-noah — NOAH (Neural Prompt Search) as a named preset: VPT-deep + LoRA + Adapter with
 * per-block dims, composed from @vpeft/method-vpt, @vpeft/method-lora and @vpeft/method-adapter.
 * Importing it registers the `noah` preset (and, through those packages, their methods) with @vpeft/core.
 */
import { registerPreset } from '@vpeft/core';
import { noahPreset } from './noah';

export { noah, noahPreset, buildNoah, NOAH_CIFAR100_SUBNET, NOAH_PACKAGE, type NoahOptions } from './noah';

registerPreset(noahPreset);
