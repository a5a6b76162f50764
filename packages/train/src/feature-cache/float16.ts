/**
 * float32 → binary16 for the feature cache's on-disk rows (core's `decodeFloat16` reads them back).
 */
/**
 * Encodes float32 values as IEEE 754 binary16 bit patterns, rounding to nearest even (as
 * `numpy.float16` and `torch.half` do); values beyond the half range become ±Infinity, NaN stays NaN.
 */
export function encodeFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const f = u32[i]!;
    const sign = (f >>> 16) & 0x8000;
    const exponent = (f >>> 23) & 0xff;
    const mantissa = f & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      // Subnormal half (or zero): shift the full significand, round half to even.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      const significand = mantissa | 0x800000;
      const shift = 14 - e;
      let half = significand >>> shift;
      const rest = significand & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rest > halfway || (rest === halfway && half & 1)) half++;
      out[i] = sign | half;
    } else {
      let half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent: still correct
      out[i] = sign | half;
    }
  }
  return out;
}
