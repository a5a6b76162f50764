/**
 * PPT (Performance-Parameter Trade-off, V-PEFT Bench): `M · exp(−log10(P / 10^7 + 1))`, with M the top-1
 * accuracy in [0, 1] and P the trainable parameters (the survey counts them without the classification head).
 */
export function ppt(accuracy: number, params: number): number {
  return accuracy * Math.exp(-Math.log10(params / 1e7 + 1));
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance) };
}

/** Plain mean (NaN when empty). */
export function mean(values: readonly number[]): number {
  return meanStd(values).mean;
}
