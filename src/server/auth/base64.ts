/**
 * Strict base64 decoders for credentials: one canonical spelling per byte
 * string (no whitespace, no stray characters, zero trailing bits), and
 * null instead of an exception for anything else.
 * @module
 */

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function table(alphabet: string): Int8Array {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const STD_TABLE = table(STD);
const URL_TABLE = table(URL);

function decodeUnpadded(text: string, t: Int8Array): Uint8Array | null {
  const n = text.length;
  if (n % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? t[c] : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two spellings would decode alike.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/** Decodes unpadded base64url (RFC 7515 §2); null if not canonical. */
export function decodeBase64Url(text: string): Uint8Array | null {
  return decodeUnpadded(text, URL_TABLE);
}

/**
 * Decodes standard base64 (RFC 4648 §4), padding optional but correct
 * when present; null if not canonical.
 */
export function decodeBase64(text: string): Uint8Array | null {
  let body = text;
  if (text.endsWith("==")) body = text.slice(0, -2);
  else if (text.endsWith("=")) body = text.slice(0, -1);
  if (body !== text && text.length % 4 !== 0) return null;
  return decodeUnpadded(body, STD_TABLE);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly; null on invalid sequences. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
