/**
 * Which remote-write protocol a request speaks, from its headers, as the
 * 2.0 specification has receivers negotiate: `Content-Type:
 * application/x-protobuf` names the message in its `proto` parameter
 * (none: 1.0's prometheus.WriteRequest); `Content-Encoding` must be snappy
 * (none: snappy, as 1.0 senders that omit it mean). Anything else is 415,
 * which tells a 2.0 sender to fall back to 1.0.
 * @module
 */
import { HttpError } from "../server/http/errors.ts";

/** The protobuf message names accepted. */
export const PROTO_V1 = "prometheus.WriteRequest";
export const PROTO_V2 = "io.prometheus.write.v2.Request";

/** The remote-write version of a request: 1 or 2; throws 415 otherwise. */
export function negotiateVersion(headers: Headers): 1 | 2 {
  const encoding = headers.get("content-encoding");
  if (encoding !== null && encoding.trim() !== "") {
    if (encoding.trim().toLowerCase() !== "snappy") {
      throw unsupported(
        `Content-Encoding ${
          JSON.stringify(encoding)
        } is not supported; use snappy`,
      );
    }
  }
  const type = headers.get("content-type");
  if (type === null || type.trim() === "") return 1;
  const [media, ...params] = type.split(";");
  const m = media.trim().toLowerCase();
  if (m !== "application/x-protobuf") {
    throw unsupported(
      `Content-Type ${JSON.stringify(type)} is not supported; ` +
        `use application/x-protobuf;proto=${PROTO_V1} or ${PROTO_V2}`,
    );
  }
  let proto = "";
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== "proto") continue;
    proto = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
  }
  if (proto === "" || proto === PROTO_V1) return 1;
  if (proto === PROTO_V2) return 2;
  throw unsupported(
    `proto ${
      JSON.stringify(proto)
    } is not supported; use ${PROTO_V1} or ${PROTO_V2}`,
  );
}

function unsupported(message: string): HttpError {
  return new HttpError(415, "unsupported_media_type", message);
}
