/**
 * Where a byte stream may be cut without splitting a UTF-8 character. Pure and total: invalid
 * bytes are never held back (the decoder turns them into U+FFFD), so a caller that cuts only at
 * these points keeps every valid character whole and never stalls on garbage.
 */

const isContinuation = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

/** Bytes a character starting with `lead` should have; 0 for a byte that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Length of the longest prefix of `bytes` that does not end inside an unfinished character:
 * `bytes.length` minus the 1–3 bytes of a trailing character still waiting for its rest.
 */
export function completePrefixLength(bytes: Uint8Array): number {
  const n = bytes.length;
  // A character is at most 4 bytes, so only the last 3 can be an unfinished one.
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = bytes[n - back]!;
    if (isContinuation(byte)) continue;
    const want = sequenceLength(byte);
    return want > back ? n - back : n;
  }
  return n;
}

/**
 * The largest cut point `<= limit` that is not inside a character; steps back over at most 3
 * continuation bytes so that invalid input still yields a cut and `0` is only returned when
 * `limit` is 0 or the bytes before it are all continuation bytes of one character.
 */
export function cutAtOrBefore(bytes: Uint8Array, limit: number): number {
  let cut = Math.min(limit, bytes.length);
  for (let i = 0; i < 3 && cut > 0 && isContinuation(bytes[cut]); i++) cut--;
  return isContinuation(bytes[cut]) ? Math.min(limit, bytes.length) : cut;
}

/** The smallest cut point `>= from` that is not inside a character (at most 3 bytes further on). */
export function cutAtOrAfter(bytes: Uint8Array, from: number): number {
  let cut = Math.min(from, bytes.length);
  for (let i = 0; i < 3 && cut < bytes.length && isContinuation(bytes[cut]); i++) cut++;
  return cut;
}
