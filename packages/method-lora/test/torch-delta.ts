/** PyTorch-layout LoRA update `scale · B·A` (`[out, in...]`) from PEFT file tensors, in plain JS (independent of the LoRA code). */
export function torchDelta(a: { shape: readonly number[]; data: Float32Array }, b: { shape: readonly number[]; data: Float32Array }, scale: number): Float64Array {
  const r = a.shape[0]!;
  const inner = a.data.length / r;
  const out = b.shape[0]!;
  const delta = new Float64Array(out * inner);
  for (let o = 0; o < out; o++) for (let k = 0; k < r; k++) for (let i = 0; i < inner; i++) delta[o * inner + i] += scale * b.data[o * r + k]! * a.data[k * inner + i]!;
  return delta;
}
