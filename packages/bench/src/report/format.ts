/** `83.50` for 0.835. */
export function percent(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(digits);
}

/** `1,234,567`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `83.50 ± 1.20` (± omitted for one seed). */
export function meanPlusMinus(mean: number, std: number, n: number): string {
  return n > 1 ? `${percent(mean)} ± ${percent(std)}` : percent(mean);
}

/** Bytes as MiB with one decimal. */
export function mebibytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
