import { createHash } from 'node:crypto';

/** SHA-256 (hex) of the C source, with CRLF normalised to LF so a Windows checkout digests the same. */
export function sourceDigest(text) {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}
