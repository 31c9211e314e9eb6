// The one string form both msgpack writers (the record writer, the shard value writer) write
// themselves (importable from any thread).

/**
 * Writes `s` at `pos` of `b` as msgpackr writes an ASCII string under 256 characters (fixstr, then
 * str8) and returns the position after it; returns -1 for any other string (the bytes written past
 * `pos` are then scratch). The caller has checked `s.length < 256` and reserved `s.length + 2` bytes.
 */
export function writeAsciiString(b: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  let p = pos + (n < 0x20 ? 1 : 2);
  // One check after the copy instead of one per character.
  let wide = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    wide |= c;
    b[p++] = c;
  }
  if (wide >= 0x80) return -1;
  if (n < 0x20) b[pos] = 0xa0 | n;
  else {
    b[pos] = 0xd9;
    b[pos + 1] = n;
  }
  return p;
}
