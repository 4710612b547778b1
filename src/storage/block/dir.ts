/**
 * A tenant's blocks directory: where it is, what it holds, start-up
 * clean-up and deletion.
 * @module
 */
import { BlockCorruptError } from "./errors.ts";
import { TMP_SUFFIX } from "./format.ts";
import { type BlockMeta, isBlockId, readMeta } from "./meta.ts";
import { syncDir } from "./writer.ts";

/**
 * A tenant id as one safe path segment: ASCII letters, digits, `_` and `-`
 * stay, every other UTF-8 byte becomes `%XX` (upper-case hex); the empty id
 * becomes `%`. Distinct ids give distinct segments, and no segment is `.`
 * or `..`.
 */
export function escapeTenant(tenant: string): string {
  if (tenant === "") return "%";
  let out = "";
  for (const b of new TextEncoder().encode(tenant)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c)
      ? c
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** `<dataDir>/tenants/<escaped tenant>/blocks`. */
export function tenantBlocksDir(dataDir: string, tenant: string): string {
  return `${dataDir}/tenants/${escapeTenant(tenant)}/blocks`;
}

/** A block found on disk. */
export interface ListedBlock extends BlockMeta {
  dir: string;
}

/** What a blocks directory holds. */
export interface BlockListing {
  /** Good blocks, sorted by minTime, then maxTime, then id. */
  blocks: ListedBlock[];
  /** Directories whose meta.json failed its checks (report and skip them). */
  corrupt: { dir: string; error: BlockCorruptError }[];
  /**
   * Good blocks whose data another good block already holds (a compaction
   * finished but its inputs were not deleted yet): delete them.
   */
  superseded: ListedBlock[];
}

/**
 * Lists the blocks in `blocksDir` (empty if it does not exist) by reading
 * each meta.json; `*.tmp` directories are ignored (see `removeTmpBlocks`).
 * When `tenant` is given, a block of another tenant counts as corrupt.
 * Only meta.json is checked here; `BlockReader.open` checks the rest.
 */
export async function listBlocks(
  blocksDir: string,
  tenant?: string,
): Promise<BlockListing> {
  const found: ListedBlock[] = [];
  const corrupt: BlockListing["corrupt"] = [];
  for (const name of await dirNames(blocksDir)) {
    if (!isBlockId(name)) continue;
    const dir = `${blocksDir}/${name}`;
    try {
      const meta = await readMeta(dir);
      if (tenant !== undefined && meta.tenant !== tenant) {
        throw new BlockCorruptError(
          dir,
          "meta.json",
          `belongs to tenant ${JSON.stringify(meta.tenant)}`,
        );
      }
      found.push({ ...meta, dir });
    } catch (e) {
      if (!(e instanceof BlockCorruptError)) throw e;
      corrupt.push({ dir, error: e });
    }
  }
  found.sort((a, b) =>
    a.minTime - b.minTime || a.maxTime - b.maxTime ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
  // A block is superseded when a higher-level block lists it as a parent or
  // holds all of its sources.
  const superseded = new Set<string>();
  for (const b of found) {
    if (b.level < 2) continue;
    const sources = new Set(b.sources);
    for (const other of found) {
      if (other.id === b.id || other.level >= b.level) continue;
      if (
        b.parents.includes(other.id) ||
        other.sources.every((s) => sources.has(s))
      ) superseded.add(other.id);
    }
  }
  return {
    blocks: found.filter((b) => !superseded.has(b.id)),
    corrupt,
    superseded: found.filter((b) => superseded.has(b.id)),
  };
}

/** Removes leftovers of interrupted writes and deletions (`*.tmp`); returns their paths. */
export async function removeTmpBlocks(blocksDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await dirNames(blocksDir)) {
    if (!name.endsWith(TMP_SUFFIX)) continue;
    const path = `${blocksDir}/${name}`;
    await Deno.remove(path, { recursive: true });
    removed.push(path);
  }
  return removed;
}

/**
 * Deletes a block: first renamed to `<dir>.deleted.tmp` (so a crash
 * mid-way leaves a leftover that `removeTmpBlocks` clears, never half a
 * block), then removed.
 */
export async function deleteBlock(dir: string): Promise<void> {
  const trimmed = dir.replace(/\/+$/, "");
  const doomed = `${trimmed}.deleted${TMP_SUFFIX}`;
  await Deno.rename(trimmed, doomed);
  const parent = trimmed.slice(0, Math.max(0, trimmed.lastIndexOf("/"))) || ".";
  await syncDir(parent);
  await Deno.remove(doomed, { recursive: true });
}

async function dirNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.sort();
}
