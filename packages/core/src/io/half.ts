/**
 * Bit-exact conversions from 16-bit floats to numbers, used by the safetensors and `.npy` readers.
 * `decodeFloat16` / `decodeBFloat16` are exported from the package entry point.
 */

/**
 * The value of an IEEE 754 binary16 (half precision) bit pattern: 1 sign bit, 5 exponent bits
 * (bias 15), 10 mantissa bits. Subnormals, signed zeros, infinities and NaN are all decoded.
 * Every half value is exactly representable as a float32, so the result is exact.
 */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero or subnormal: m · 2^-14 / 2^10
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * The value of a bfloat16 bit pattern: the upper 16 bits of a float32 (1 sign, 8 exponent,
 * 7 mantissa bits), so the conversion is a 16-bit shift and is exact.
 */
export function bfloat16BitsToNumber(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

let float16Table: Float32Array | undefined;

/** Decodes little-endian binary16 values (`count` of them from `bytes[offset]`) into float32. */
export function decodeFloat16(bytes: Uint8Array, offset: number, count: number): Float32Array {
  if (!float16Table) {
    float16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) float16Table[b] = float16BitsToNumber(b);
  }
  const table = float16Table;
  const out = new Float32Array(count);
  for (let i = 0, p = offset; i < count; i++, p += 2) out[i] = table[bytes[p]! | (bytes[p + 1]! << 8)]!;
  return out;
}

/** Decodes little-endian bfloat16 values (`count` of them from `bytes[offset]`) into float32. */
export function decodeBFloat16(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const u32 = new Uint32Array(out.buffer);
  for (let i = 0, p = offset; i < count; i++, p += 2) u32[i] = ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >>> 0;
  return out;
}
