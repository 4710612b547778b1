/**
 * meta.json: what a block holds and the checksums of its other files. The
 * file is canonical JSON (2-space indent, fixed key order) carrying a
 * CRC-32C of itself without the `checksum` key; a reader re-serializes what
 * it parsed and requires the very same text, so any changed byte is caught.
 * @module
 */
import { crc32c } from "../../codec/crc32c.ts";
import { BlockCorruptError } from "./errors.ts";
import { BLOCK_FORMAT_VERSION, MAX_BLOCK_RANGE, META_FILE } from "./format.ts";

/** Size and CRC-32C of one block file. */
export interface FileInfo {
  size: number;
  crc32c: number;
}

/** A block's description (meta.json without its checksum). */
export interface BlockMeta {
  version: number;
  /** Block id: a ULID (26 Crockford base-32 characters), also the directory name. */
  id: string;
  tenant: string;
  /** First millisecond covered (inclusive). */
  minTime: number;
  /** End of the range (exclusive). */
  maxTime: number;
  numSeries: number;
  numSamples: number;
  numChunks: number;
  /** 1 for a block written from the head; compaction gives max(inputs) + 1. */
  level: number;
  /** Ids of the level-1 blocks whose data this block holds (itself at level 1). */
  sources: string[];
  /** Ids of the blocks compacted into this one (empty at level 1). */
  parents: string[];
  files: { index: FileInfo; chunks: FileInfo };
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A new ULID: 48-bit ms time then 80 random bits; sorts by creation time. */
export function newBlockId(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rand = crypto.getRandomValues(new Uint8Array(16));
  let tail = "";
  for (const b of rand) tail += CROCKFORD[b & 31];
  return time + tail;
}

/** Whether `name` looks like a block id. */
export function isBlockId(name: string): boolean {
  return ID_PATTERN.test(name);
}

function ordered(meta: BlockMeta): BlockMeta {
  const file = (f: FileInfo): FileInfo => ({ size: f.size, crc32c: f.crc32c });
  return {
    version: meta.version,
    id: meta.id,
    tenant: meta.tenant,
    minTime: meta.minTime,
    maxTime: meta.maxTime,
    numSeries: meta.numSeries,
    numSamples: meta.numSamples,
    numChunks: meta.numChunks,
    level: meta.level,
    sources: [...meta.sources],
    parents: [...meta.parents],
    files: { index: file(meta.files.index), chunks: file(meta.files.chunks) },
  };
}

function canonical(meta: BlockMeta, checksum: string): string {
  return JSON.stringify({ ...ordered(meta), checksum }, null, 2) + "\n";
}

function checksumOf(meta: BlockMeta): string {
  const body = new TextEncoder().encode(JSON.stringify(ordered(meta)));
  return crc32c(body).toString(16).padStart(8, "0");
}

/** The text of meta.json for `meta`. */
export function serializeMeta(meta: BlockMeta): string {
  return canonical(meta, checksumOf(meta));
}

/**
 * Parses and checks meta.json's text; `dir` names the block in errors and,
 * when given, its base name must equal the id.
 */
export function parseMeta(text: string, dir: string): BlockMeta {
  const fail = (why: string): never => {
    throw new BlockCorruptError(dir, META_FILE, why);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail("not valid JSON");
  }
  if (typeof raw !== "object" || raw === null) return fail("not an object");
  const o = raw as Record<string, unknown>;
  const int = (x: unknown, what: string, min = 0): number => {
    if (!Number.isSafeInteger(x) || (x as number) < min) {
      fail(`${what} is not an integer >= ${min}`);
    }
    return x as number;
  };
  const ids = (x: unknown, what: string): string[] => {
    if (!Array.isArray(x) || !x.every((s) => typeof s === "string")) {
      fail(`${what} is not a list of ids`);
    }
    return x as string[];
  };
  const file = (x: unknown, what: string): FileInfo => {
    if (typeof x !== "object" || x === null) return fail(`${what} missing`);
    const f = x as Record<string, unknown>;
    return {
      size: int(f.size, `${what}.size`),
      crc32c: int(f.crc32c, `${what}.crc32c`),
    };
  };
  if (o.version !== BLOCK_FORMAT_VERSION) {
    fail(`unsupported version ${JSON.stringify(o.version)}`);
  }
  if (typeof o.id !== "string" || !isBlockId(o.id)) fail("bad id");
  if (typeof o.tenant !== "string") fail("tenant is not a string");
  const files = (o.files ?? {}) as Record<string, unknown>;
  const meta: BlockMeta = {
    version: BLOCK_FORMAT_VERSION,
    id: o.id as string,
    tenant: o.tenant as string,
    minTime: int(o.minTime, "minTime", -Number.MAX_SAFE_INTEGER),
    maxTime: int(o.maxTime, "maxTime", -Number.MAX_SAFE_INTEGER),
    numSeries: int(o.numSeries, "numSeries"),
    numSamples: int(o.numSamples, "numSamples"),
    numChunks: int(o.numChunks, "numChunks"),
    level: int(o.level, "level", 1),
    sources: ids(o.sources, "sources"),
    parents: ids(o.parents, "parents"),
    files: {
      index: file(files.index, "files.index"),
      chunks: file(files.chunks, "files.chunks"),
    },
  };
  if (!(meta.minTime < meta.maxTime)) fail("minTime >= maxTime");
  if (meta.maxTime - meta.minTime > MAX_BLOCK_RANGE) fail("range too long");
  if (typeof o.checksum !== "string") fail("checksum missing");
  if (o.checksum !== checksumOf(meta)) fail("checksum mismatch");
  if (canonical(meta, o.checksum as string) !== text) {
    fail("not in canonical form");
  }
  const base = dir.replace(/\/+$/, "").split("/").pop() ?? "";
  if (dir !== "" && base !== meta.id) {
    fail(`id ${meta.id} differs from the directory name ${base}`);
  }
  return meta;
}

/** Reads and checks `<dir>/meta.json`. A missing or bad file throws BlockCorruptError. */
export async function readMeta(dir: string): Promise<BlockMeta> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${META_FILE}`);
  } catch (e) {
    throw new BlockCorruptError(dir, META_FILE, `cannot read: ${e}`);
  }
  return parseMeta(text, dir);
}
