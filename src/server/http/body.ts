/**
 * Reads a request body with a byte limit, refusing (413) before buffering
 * more than the limit: a declared Content-Length over it is refused at
 * once; a chunked body is counted as it streams.
 * @module
 */
import { HttpError } from "./errors.ts";

/** Reads the whole body, at most `maxBytes`. */
export async function readBody(
  req: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await req.body?.cancel();
    throw tooLarge(maxBytes);
  }
  if (!req.body) return new Uint8Array(0);
  return await readStream(req.body, maxBytes, "request body");
}

/**
 * Reads a byte stream whole, cancelling it and throwing 413 (naming `what`)
 * once more than `maxBytes` have come. Other stream errors propagate.
 */
export async function readStream(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes, what);
    }
    parts.push(value);
  }
  if (parts.length === 1) return new Uint8Array(parts[0]);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Reads the body as UTF-8 text, at most `maxBytes`. */
export async function readText(
  req: Request,
  maxBytes: number,
): Promise<string> {
  const bytes = await readBody(req, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "bad_data", "request body is not valid UTF-8");
  }
}

function tooLarge(maxBytes: number, what = "request body"): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    `${what} larger than ${maxBytes} bytes`,
  );
}
