/**
 * Encodes WAL records into a ByteBuf: framing (type, length, CRC-32C),
 * tenant interning scoped to one file, SERIES records that grow while
 * consecutive series of one tenant arrive, and compact SAMPLES records.
 * @module
 */
import { crc32c } from "../../codec/crc32c.ts";
import type { Labels } from "../../model/labels.ts";
import { ByteBuf, putString, putUvarint, zigzag } from "./bytes.ts";
import {
  MAX_RECORD_PAYLOAD,
  MAX_SAMPLES_PER_RECORD,
  RECORD_HEADER_SIZE,
  RecordType,
  SAMPLES_RAW_TIMESTAMPS,
  SERIES_RECORD_TARGET,
} from "./format.ts";

/** CRC-32C of each one-byte type, the start of each record's checksum. */
const TYPE_CRC: number[] = Array.from(
  { length: 8 },
  (_, t) => crc32c(Uint8Array.of(t)),
);

/** Largest varint-encoded timestamp delta; beyond it zigzag loses exactness. */
const MAX_DELTA = 2 ** 52 - 1;

/** Writes records into `buf`; tenant ids are interned per encoder (one per file). */
export class RecordEncoder {
  buf: ByteBuf;
  #tenants = new Map<string, number>();
  /** Header offset of the SERIES record still accepting entries, or -1. */
  #openSeries = -1;
  #openSeriesTenant = -1;

  constructor(buf: ByteBuf) {
    this.buf = buf;
  }

  /** Finishes a SERIES record left open for more entries. Call before taking the bytes. */
  seal(): void {
    if (this.#openSeries >= 0) {
      this.#finish(this.#openSeries, RecordType.SERIES);
    }
    this.#openSeries = -1;
  }

  /** Replaces the output buffer (after the written bytes were taken); keeps the tenant table. */
  swapBuffer(next: ByteBuf): ByteBuf {
    this.seal();
    const old = this.buf;
    this.buf = next;
    return old;
  }

  /** The file-scoped id of `tenant`, logging a TENANT record on first use. */
  tenant(name: string): number {
    let id = this.#tenants.get(name);
    if (id !== undefined) return id;
    this.seal();
    id = this.#tenants.size;
    this.#tenants.set(name, id);
    const start = this.#begin(RecordType.TENANT, 10);
    this.buf.pos = putUvarint(this.buf.bytes, this.buf.pos, id);
    putString(this.buf, name);
    this.#finish(start, RecordType.TENANT);
    return id;
  }

  /** Adds one series; consecutive series of a tenant share a record. */
  series(tenant: string, ref: number, labels: Labels): void {
    if (!Number.isInteger(ref) || ref < 0 || ref > 0xffffffff) {
      throw new RangeError(`series ref ${ref} is not a u32`);
    }
    let size = 16;
    for (const l of labels) size += 3 * (l.name.length + l.value.length) + 10;
    if (size > MAX_RECORD_PAYLOAD - SERIES_RECORD_TARGET - 64) {
      throw new RangeError("label set too large for the WAL");
    }
    const tid = this.tenant(tenant);
    const buf = this.buf;
    if (
      this.#openSeries < 0 || this.#openSeriesTenant !== tid ||
      buf.pos - this.#openSeries > SERIES_RECORD_TARGET
    ) {
      this.seal();
      this.#openSeries = this.#begin(RecordType.SERIES, 10);
      this.#openSeriesTenant = tid;
      buf.pos = putUvarint(buf.bytes, buf.pos, tid);
    }
    buf.ensure(20);
    buf.pos = putUvarint(buf.bytes, buf.pos, ref);
    buf.pos = putUvarint(buf.bytes, buf.pos, labels.length);
    for (const l of labels) {
      putString(buf, l.name);
      putString(buf, l.value);
    }
  }

  /**
   * Logs samples [from, from + n) as one SAMPLES record (n ≤
   * MAX_SAMPLES_PER_RECORD). Values are copied as bytes, never read as
   * numbers, so every NaN payload survives.
   */
  samples(
    tenant: string,
    refs: Uint32Array,
    ts: Float64Array,
    values: Float64Array,
    from: number,
    n: number,
  ): void {
    if (n > MAX_SAMPLES_PER_RECORD) throw new RangeError("batch too large");
    const tid = this.tenant(tenant);
    this.seal();
    const start = this.#begin(RecordType.SAMPLES, 21 * n + 40);
    const out = this.buf.bytes;
    const view = this.buf.view;
    let p = putUvarint(out, this.buf.pos, tid);
    p = putUvarint(out, p, n);
    const flagsAt = p++;
    out[flagsAt] = 0;
    out.set(
      new Uint8Array(values.buffer, values.byteOffset + from * 8, n * 8),
      p,
    );
    p += n * 8;
    const tsAt = p;
    const base = n > 0 ? ts[from] : 0;
    view.setFloat64(p, base, true);
    p += 8;
    // Varint mode: every timestamp is base + an integer delta that
    // round-trips exactly; otherwise fall back to raw float64s.
    let ok = Number.isSafeInteger(base);
    let prev = 0;
    for (let i = from, end = from + n; ok && i < end; i++) {
      const r = refs[i];
      const dr = r - prev;
      prev = r;
      p = putUvarint(out, p, dr >= 0 ? dr * 2 : -dr * 2 - 1);
      const t = ts[i];
      const dt = t - base;
      if ((dt | 0) === dt && base + dt === t) {
        p = putUvarint(out, p, ((dt << 1) ^ (dt >> 31)) >>> 0);
      } else if (
        Number.isInteger(dt) && Math.abs(dt) <= MAX_DELTA && base + dt === t
      ) {
        p = putUvarint(out, p, zigzag(dt));
      } else {
        ok = false;
      }
    }
    if (!ok) {
      out[flagsAt] = SAMPLES_RAW_TIMESTAMPS;
      p = tsAt;
      out.set(new Uint8Array(ts.buffer, ts.byteOffset + from * 8, n * 8), p);
      p += n * 8;
      prev = 0;
      for (let i = from, end = from + n; i < end; i++) {
        const r = refs[i];
        const dr = r - prev;
        prev = r;
        p = putUvarint(out, p, dr >= 0 ? dr * 2 : -dr * 2 - 1);
      }
    }
    this.buf.pos = p;
    this.#finish(start, RecordType.SAMPLES);
  }

  /** Logs a deletion of [mint, maxt] for `refs` of one tenant. */
  tombstones(
    tenant: string,
    refs: Uint32Array,
    mint: number,
    maxt: number,
  ): void {
    if (refs.length > MAX_SAMPLES_PER_RECORD) {
      throw new RangeError("too many refs in one tombstone");
    }
    const tid = this.tenant(tenant);
    this.seal();
    const start = this.#begin(RecordType.TOMBSTONES, 5 * refs.length + 40);
    const buf = this.buf;
    let p = putUvarint(buf.bytes, buf.pos, tid);
    buf.view.setFloat64(p, mint, true);
    buf.view.setFloat64(p + 8, maxt, true);
    p = putUvarint(buf.bytes, p + 16, refs.length);
    let prev = 0;
    for (let i = 0; i < refs.length; i++) {
      const dr = refs[i] - prev;
      prev = refs[i];
      p = putUvarint(buf.bytes, p, dr >= 0 ? dr * 2 : -dr * 2 - 1);
    }
    buf.pos = p;
    this.#finish(start, RecordType.TOMBSTONES);
  }

  /** Logs the CHECKPOINT record that opens a checkpoint file. */
  checkpoint(covers: number, createdMs: number): void {
    this.seal();
    const start = this.#begin(RecordType.CHECKPOINT, 12);
    const buf = this.buf;
    buf.view.setUint32(buf.pos, covers, true);
    buf.view.setFloat64(buf.pos + 4, createdMs, true);
    buf.pos += 12;
    this.#finish(start, RecordType.CHECKPOINT);
  }

  /** Reserves a record header plus `extra` payload bytes; returns the header offset. */
  #begin(type: number, extra: number): number {
    const buf = this.buf;
    buf.ensure(RECORD_HEADER_SIZE + extra);
    const start = buf.pos;
    buf.bytes[start] = type;
    buf.pos = start + RECORD_HEADER_SIZE;
    return start;
  }

  /** Fills in the length and CRC of the record whose header is at `start`. */
  #finish(start: number, type: number): void {
    const buf = this.buf;
    const len = buf.pos - start - RECORD_HEADER_SIZE;
    const payload = buf.bytes.subarray(start + RECORD_HEADER_SIZE, buf.pos);
    buf.view.setUint32(start + 1, len, true);
    buf.view.setUint32(start + 5, crc32c(payload, TYPE_CRC[type]), true);
  }
}
