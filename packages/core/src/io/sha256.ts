/**
 * SHA-256 of `bytes` as lowercase hex, with the Web Crypto API (`crypto.subtle`), which browsers and
 * Node (20+) both have, so an adapter's checksum is the same wherever it was saved.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
