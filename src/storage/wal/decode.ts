/**
 * Decodes one CRC-checked record payload. Anything malformed throws
 * RecordError: a record is returned whole and exact or not at all.
 * @module
 */
import type { Label } from "../../model/labels.ts";
import { ByteReader, unzigzag } from "./bytes.ts";
import { RecordType, SAMPLES_RAW_TIMESTAMPS } from "./format.ts";
import type { SeriesEntry, WalRecord } from "./types.ts";

/** A payload that passed its CRC but does not parse. */
export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
}

/** Tenant ids interned so far in the file being read. */
export type TenantTable = Map<number, string>;

/**
 * Decodes the payload `bytes[start, end)` of a record of `type`. A TENANT
 * record updates `tenants` and yields null.
 */
export function decodeRecord(
  type: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  tenants: TenantTable,
): WalRecord | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new ByteReader(bytes, start, end);
  let rec: WalRecord | null;
  try {
    switch (type) {
      case RecordType.TENANT: {
        const id = r.uvarint(5);
        const name = r.string();
        if (!r.bad && tenants.has(id)) {
          throw new RecordError("tenant id reused");
        }
        tenants.set(id, name);
        rec = null;
        break;
      }
      case RecordType.SERIES:
        rec = decodeSeries(r, tenants);
        break;
      case RecordType.SAMPLES:
        rec = decodeSamples(r, view, tenants);
        break;
      case RecordType.TOMBSTONES: {
        const tenant = tenantOf(r, tenants);
        const mint = r.f64(view);
        const maxt = r.f64(view);
        const n = r.uvarint(5);
        if (r.bad || n > end - r.pos) throw new RecordError("bad tombstone");
        const refs = new Uint32Array(n);
        let prev = 0;
        for (let i = 0; i < n; i++) {
          prev += unzigzag(r.uvarint(5));
          refs[i] = prev;
          if (prev < 0 || prev > 0xffffffff) r.bad = true;
        }
        rec = { kind: "tombstones", tenant, refs, mint, maxt };
        break;
      }
      case RecordType.CHECKPOINT: {
        const covers = r.u32(view);
        const createdMs = r.f64(view);
        rec = { kind: "checkpoint", covers, createdMs };
        break;
      }
      default:
        throw new RecordError(`unknown record type ${type}`);
    }
  } catch (e) {
    if (e instanceof RecordError) throw e;
    // TextDecoder rejects invalid UTF-8 with a TypeError.
    throw new RecordError(`malformed payload: ${(e as Error).message}`);
  }
  if (r.bad || r.pos !== end) {
    throw new RecordError(`malformed record of type ${type}`);
  }
  return rec;
}

function tenantOf(r: ByteReader, tenants: TenantTable): string {
  const id = r.uvarint(5);
  const name = tenants.get(id);
  if (r.bad || name === undefined) {
    throw new RecordError(`unknown tenant id ${id}`);
  }
  return name;
}

function decodeSeries(r: ByteReader, tenants: TenantTable): WalRecord {
  const tenant = tenantOf(r, tenants);
  const series: SeriesEntry[] = [];
  while (r.pos < r.end && !r.bad) {
    const ref = r.uvarint(5);
    const count = r.uvarint(5);
    if (r.bad || ref > 0xffffffff || count > r.end - r.pos) break;
    const labels: Label[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const name = r.string();
      labels[i] = { name, value: r.string() };
    }
    series.push({ ref, labels });
  }
  return { kind: "series", tenant, series };
}

function decodeSamples(
  r: ByteReader,
  view: DataView,
  tenants: TenantTable,
): WalRecord {
  const tenant = tenantOf(r, tenants);
  const n = r.uvarint(5);
  const end = r.end;
  // Bound n by the bytes present before allocating anything for it.
  if (r.bad || r.pos + 1 + n * 9 > end) throw new RecordError("bad count");
  const b = r.bytes;
  const flags = b[r.pos++];
  if (flags & ~SAMPLES_RAW_TIMESTAMPS) throw new RecordError("bad flags");
  const values = new Float64Array(n);
  new Uint8Array(values.buffer).set(b.subarray(r.pos, r.pos + n * 8));
  r.pos += n * 8;
  const refs = new Uint32Array(n);
  const ts = new Float64Array(n);
  let p = r.pos;
  let base = 0;
  const raw = (flags & SAMPLES_RAW_TIMESTAMPS) !== 0;
  if (raw) {
    if (p + n * 8 > end) throw new RecordError("short timestamps");
    new Uint8Array(ts.buffer).set(b.subarray(p, p + n * 8));
    p += n * 8;
  } else {
    base = r.f64(view);
    if (r.bad) throw new RecordError("short base");
    p = r.pos;
  }
  let prev = 0;
  let bad = false;
  let i = 0;
  for (; i < n && p < end; i++) {
    // Inline the 1-byte (ref) and 1-2 byte (timestamp) varint fast paths.
    let x = b[p];
    let z: number;
    if (x < 0x80) {
      z = x;
      p++;
    } else {
      r.pos = p;
      z = r.uvarint(5);
      p = r.pos;
    }
    prev += z < 0x80000000 ? (z >>> 1) ^ -(z & 1) : unzigzag(z);
    if ((prev >>> 0) !== prev) bad = true;
    refs[i] = prev;
    if (raw) continue;
    x = b[p];
    if (x < 0x80) {
      ts[i] = base + ((x >>> 1) ^ -(x & 1));
      p++;
    } else if (b[p + 1] < 0x80) {
      z = (x & 0x7f) | (b[p + 1] << 7);
      ts[i] = base + ((z >>> 1) ^ -(z & 1));
      p += 2;
    } else {
      r.pos = p;
      ts[i] = base + unzigzag(r.uvarint(8));
      p = r.pos;
    }
  }
  r.pos = p;
  if (bad || i < n) r.bad = true;
  return { kind: "samples", tenant, refs, ts, values };
}
