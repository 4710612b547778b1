// CRC-32 (IEEE 802.3 polynomial, reflected; the zlib/PNG checksum) with a
// 16-entry nibble table: blobs are small, so two lookups per byte suffice.

const NIBBLE_TABLE = memory.data<u32>([
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
  0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
  0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]);

/** CRC-32 of [ptr, ptr + len). */
export function crc32(ptr: usize, len: usize): u32 {
  let crc: u32 = 0xffffffff;
  const end = ptr + len;
  for (let p = ptr; p < end; p++) {
    crc ^= <u32>load<u8>(p);
    crc = (crc >>> 4) ^ load<u32>(NIBBLE_TABLE + ((crc & 15) << 2));
    crc = (crc >>> 4) ^ load<u32>(NIBBLE_TABLE + ((crc & 15) << 2));
  }
  return ~crc;
}
