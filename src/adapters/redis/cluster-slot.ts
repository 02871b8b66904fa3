/**
 * Redis Cluster's key → slot function (CRC16/XMODEM of the hash tag, mod 16384), for checks and diagnostics:
 * every key of a checkpoint must land on the slot of its partition's tag `{topic:partition}`.
 */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

export function crc16(data: Buffer): number {
  let crc = 0;
  for (const b of data) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff];
  return crc;
}

/** The part of a key Cluster hashes: the text of the first non-empty `{…}`, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function clusterSlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key), 'utf8')) % 16384;
}
