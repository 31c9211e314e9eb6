// A hand-written dotted-quad reader: the hot path validates an IPv4 address or prefix per route
// message on both threads, where node:net's regex, split and map cost microseconds each.

/**
 * The address in `text[start, end)` as an unsigned 32-bit number, or -1 when that range is not
 * an IPv4 address in the exact form node:net's isIPv4 accepts (four decimal parts 0..255, no
 * leading zeros, nothing else).
 */
export function parseIPv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      // '.'
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    // A leading zero is only allowed as the whole part ("0").
    if (digits === 1 && part === 0) return -1;
    if (++digits > 3) return -1;
    part = part * 10 + (c - 48);
    if (part > 255) return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** Whether `text` is an IPv4 address as node:net's isIPv4 sees it. */
export function isIPv4Text(text: string): boolean {
  return parseIPv4(text) >= 0;
}

/**
 * The prefix length in `text[start, end)` when it is 1–3 decimal digits (the form the CIDR
 * checks accept, leading zeros included), else -1.
 */
export function parsePrefixLength(text: string, start: number, end = text.length): number {
  const n = end - start;
  if (n < 1 || n > 3) return -1;
  let len = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    len = len * 10 + (c - 48);
  }
  return len;
}
