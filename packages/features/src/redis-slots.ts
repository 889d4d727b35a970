/**
 * Redis Cluster hash slots, computed here so a lookup can group its keys by the node that holds
 * them: CRC16 (XMODEM) of the key's hash tag — the bytes between its first `{` and the first `}`
 * after it, when not empty — or of the whole key, modulo 16384, as Redis computes it.
 *
 * @internal
 */

/** The CRC16-XMODEM table (polynomial 0x1021), built once. */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

function step(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
}

/**
 * CRC16 of the UTF-8 bytes of `text` from `start` to `end` (UTF-16 indices; a lone surrogate is
 * U+FFFD, as TextEncoder writes it), continuing from `crc`.
 */
function crc16(text: string, start: number, end: number, crc = 0): number {
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      crc = step(crc, c);
      continue;
    }
    if (c < 0x800) {
      crc = step(step(crc, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      crc = step(step(step(step(crc, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 0x3f)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    crc = step(step(step(crc, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
  }
  return crc;
}

/** The hash slot of `key` (0..16383), as `CLUSTER KEYSLOT` answers. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & 16383;
  }
  return crc16(key, 0, key.length) & 16383;
}

/**
 * The slot of the store's key tagged `{<kind>:<id>}` (a user `u`, an ad `a`) without building
 * the key: the tag ends at the first `}`, which may be inside the id.
 */
export function tagSlot(kind: 'u' | 'a', id: string): number {
  const close = id.indexOf('}');
  return crc16(id, 0, close < 0 ? id.length : close, step(step(0, kind.charCodeAt(0)), 0x3a)) & 16383;
}
