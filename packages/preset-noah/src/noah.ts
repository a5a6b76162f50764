import { compose, definePreset, OptionError, type ComposedMethod, type MethodInstance } from '@vpeft/core';
import { adapter } from '@vpeft/method-adapter';
import { lora } from '@vpeft/method-lora';
import { vpt } from '@vpeft/method-vpt';

/** The npm package that provides the `noah` preset. */
export const NOAH_PACKAGE = '@vpeft/preset-noah';

/** A NOAH subnet: per-block dims of its three modules (one entry per block, 0 = none in that block). */
export interface NoahOptions {
  /** VPT-deep prompt tokens per block (NOAH's `VISUAL_PROMPT_DIM`). */
  prompts: number[];
  /** LoRA rank per block on the whole fused qkv (NOAH's `LORA_DIM`). */
  lora: number[];
  /** Adapter bottleneck per block, after the MLP (NOAH's `ADAPTER_DIM`). */
  adapter: number[];
}

/**
 * The default subnet: the one NOAH published for VTAB-1k CIFAR-100 on ViT-B/16
 * (ZhangYuanhan-AI/NOAH, `experiments/NOAH/subnet/VTAB/ViT-B_prompt_cifar100.yaml`, `RETRAIN`).
 */
export const NOAH_CIFAR100_SUBNET: NoahOptions = {
  prompts: [10, 5, 10, 1, 5, 1, 10, 1, 10, 5, 1, 10],
  lora: [10, 1, 5, 5, 1, 10, 1, 1, 1, 10, 1, 1],
  adapter: [5, 10, 10, 10, 5, 1, 1, 1, 10, 10, 10, 1],
};

function checkDims(name: keyof NoahOptions, dims: unknown, depth: number): void {
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new OptionError(name, dims, 'a list of non-negative integers, one per block (0 = none in that block)', 'noah');
  }
  if (dims.length !== depth) throw new OptionError(name, dims, `${depth} entries, as many as prompts (one per block)`, 'noah');
}

/** LoRA instances for per-block ranks: one instance per distinct rank, over the blocks that have it. */
function loraPerBlock(ranks: readonly number[]): MethodInstance<object>[] {
  const blocksByRank = new Map<number, number[]>();
  ranks.forEach((r, block) => r > 0 && blocksByRank.set(r, [...(blocksByRank.get(r) ?? []), block]));
  return [...blocksByRank].map(([r, blocks]) => {
    const which = blocks.length === 1 ? String(blocks[0]) : `{${blocks.join(',')}}`;
    // NOAH adds A·B to the qkv weight unscaled (alpha = r), A kaiming-uniform, B zero.
    return lora({ r, alpha: r, slices: 'all', targets: [`blocks.${which}.attn.qkv`] }, { name: `noah-lora-r${r}` });
  });
}

/**
 * The methods of a NOAH subnet (Zhang et al., 2022, "Neural Prompt Search"), in NOAH's order inside a
 * block: VPT-deep prompts appended to the sequence (each block's replace the previous block's), LoRA on
 * the whole fused qkv, and a sequential adapter after the MLP with QuickGELU — each with its own dim per
 * block. The search itself is not part of it: pass a subnet's dims (default: NOAH's CIFAR-100 subnet).
 */
export function buildNoah(options: NoahOptions): ComposedMethod {
  const depth = Array.isArray(options.prompts) ? options.prompts.length : 0;
  for (const name of ['prompts', 'lora', 'adapter'] as const) checkDims(name, options[name], depth);
  const methods: MethodInstance<object>[] = [];
  if (options.prompts.some((p) => p > 0)) {
    methods.push(vpt({ deep: true, position: 'append', init: 'trunc-normal', perBlock: options.prompts }, { name: 'noah-vpt' }));
  }
  methods.push(...loraPerBlock(options.lora));
  if (options.adapter.some((m) => m > 0)) {
    methods.push(adapter({ placement: 'mlp', activation: 'quick-gelu', perBlock: options.adapter }, { name: 'noah-adapter' }));
  }
  if (methods.length === 0) throw new OptionError('prompts', options.prompts, 'at least one block with prompts, a LoRA rank or an adapter', 'noah');
  return compose(...methods);
}

/** The `noah` preset: `vpeft ... --method noah` or `--method noah:prompts=10|5|...,lora=...,adapter=...`. */
export const noahPreset = definePreset<NoahOptions>({
  name: 'noah',
  packageName: NOAH_PACKAGE,
  description: 'NOAH: VPT-deep + LoRA + Adapter with per-block dims (default: NOAH\'s CIFAR-100 subnet for ViT-B/16)',
  defaults: NOAH_CIFAR100_SUBNET,
  build: buildNoah,
});

/** A NOAH subnet as composed methods: `applyPeft(vit, noah(), ...)`, or `noah({ prompts, lora, adapter })`. */
export function noah(options: Partial<NoahOptions> = {}): ComposedMethod {
  return noahPreset.build(options);
}
