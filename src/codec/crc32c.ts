/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum that
 * frames each message of a STREAMED_XOR_CHUNKS remote-read response.
 * @module
 */

const POLY = 0x82f63b78;

/** Slicing-by-4 tables: TABLES[k][b] is the CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[b] = c >>> 0;
  }
  const tables = [t0];
  for (let k = 1; k < 4; k++) {
    const prev = tables[k - 1];
    const t = new Uint32Array(256);
    for (let b = 0; b < 256; b++) t[b] = (prev[b] >>> 8) ^ t0[prev[b] & 0xff];
    tables.push(t);
  }
  return tables;
}

/**
 * Continues a CRC-32C over `bytes`. Start with `crc = 0` (the default); pass a
 * previous result to checksum data that arrives in pieces.
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3] = TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) |
      (bytes[i + 3] << 24);
    c = t3[c & 0xff] ^ t2[(c >>> 8) & 0xff] ^ t1[(c >>> 16) & 0xff] ^
      t0[c >>> 24];
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
