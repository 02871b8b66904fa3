/**
 * Bytes → text for everything read as UTF-8 (rule files, REST bodies). Decoding bytes that are not UTF-8
 * would silently turn them into U+FFFD: a rule comparing with 'Montréal' written in Latin-1 would load and
 * never match, and distinct bad keys would merge. So such bytes are refused, saying where the first one is.
 */

export interface Utf8Failure {
  ok: false;
  /** The bytes start with a UTF-16 byte-order mark: the whole text is in another encoding. */
  utf16: boolean;
  /** Offset of the first bad byte in the bytes. */
  byte: number;
  /** The bytes decoded with U+FFFD for the bad ones (to show the line), and where the first bad one is in it. */
  lossy: string;
  at: number;
}

export type Utf8Decoded = { ok: true; text: string } | Utf8Failure;

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** The text of UTF-8 bytes, without a leading byte-order mark; or where the bytes stop being UTF-8. */
export function decodeUtf8Text(bytes: Uint8Array): Utf8Decoded {
  const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  if (!utf16) {
    try {
      return { ok: true, text: strict.decode(bytes) };
    } catch {
      // Not UTF-8: found below.
    }
  }
  const byte = utf16 ? 0 : firstInvalidUtf8(bytes);
  // The bytes before the bad one are valid: their decoding is the start of the lossy text.
  return { ok: false, utf16, byte, lossy: lenient.decode(bytes), at: lenient.decode(bytes.subarray(0, byte)).length };
}

/** What is wrong, to follow "<the input> is". */
export function utf8Problem(decoded: Pick<Utf8Failure, 'utf16'>): string {
  return decoded.utf16 ? 'UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8' : 'not valid UTF-8';
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode table 3-7), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    let more: number;
    // The allowed range of the second byte excludes overlong forms, surrogates and code points past U+10FFFF.
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) more = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      more = 2;
      if (lead === 0xe0) low = 0xa0;
      else if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      more = 3;
      if (lead === 0xf0) low = 0x90;
      else if (lead === 0xf4) high = 0x8f;
    } else return i;
    if (i + more >= bytes.length || bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (let k = 2; k <= more; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += more + 1;
  }
  return -1;
}
