/** Which LoRA factor: the down projection `A` or the up projection `B`. */
export type LoraFactorName = 'lora_A' | 'lora_B';

/** The name of DoRA's magnitude vector (as Hugging Face PEFT names it). */
export const DORA_MAGNITUDE = 'lora_magnitude_vector';

/**
 * The local name of a LoRA variable at a site: `lora_A` / `lora_B` for the whole matrix,
 * `lora_A.q` / `lora_B.q` for a fused-output slice. The full parameter name is
 * `<instance>.<site>.<local name>`, e.g. `lora.blocks.0.attn.qkv.lora_A.q`.
 */
export function loraLocalName(factor: LoraFactorName | typeof DORA_MAGNITUDE, slice?: string): string {
  return slice === undefined ? factor : `${factor}.${slice}`;
}

/** The full parameter name of a LoRA variable (see {@link loraLocalName}). */
export function loraParameterName(instance: string, site: string, factor: LoraFactorName | typeof DORA_MAGNITUDE, slice?: string): string {
  return `${instance}.${site}.${loraLocalName(factor, slice)}`;
}
