/**
 * Which snapshots and log segments the Metrics API keeps.
 *
 * Snapshots are `<dir>/snapshot-SSSSSSSS.json`, named by the log segment
 * their position starts (the store rolls the log at each snapshot, so the
 * position is always the start of a segment). The rule: keep the two
 * newest snapshots, and every log segment from the older of the two on.
 * So a start can use the newest snapshot, or, when it is missing or
 * damaged, the one before it with the log after it; segments only the
 * older snapshot covers go when a newer snapshot exists.
 *
 * Deletion runs only after the new snapshot is durable (file fsynced,
 * renamed, directory fsynced), old snapshots first, then segments oldest
 * first. A crash anywhere leaves a state that starts correctly: extra old
 * files are ignored (a snapshot whose segments are gone is skipped, and
 * segments before the snapshot used are not read) and removed next time.
 * A legacy `snapshot.json` (before retention) counts as the oldest.
 * @module
 */
import type { MetricsLog } from "./log.ts";

/** A snapshot file and the segment its position starts. */
export interface SnapshotFile {
  readonly path: string;
  /** -1 for the legacy `snapshot.json` (position unknown until read). */
  readonly segment: number;
}

/** Steps of retention, for crash tests. */
export type RetentionStep =
  | "snapshots-deleted"
  | "segment-deleted"
  | "segments-deleted";

/** The file name of the snapshot at the start of `segment`. */
export function snapshotName(segment: number): string {
  return `snapshot-${String(segment).padStart(8, "0")}.json`;
}

/** Snapshot files in `dir`, newest first. */
export async function listSnapshots(dir: string): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const m = /^snapshot-(\d{8})\.json$/.exec(e.name);
    if (m) out.push({ path: `${dir}/${e.name}`, segment: Number(m[1]) });
    else if (e.name === "snapshot.json") {
      out.push({ path: `${dir}/${e.name}`, segment: -1 });
    }
  }
  return out.sort((a, b) => b.segment - a.segment);
}

/** Removes temporary files a crash left mid-snapshot. */
export async function removeStrayTemps(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /^snapshot.*\.tmp$/.test(e.name)) {
      await Deno.remove(`${dir}/${e.name}`).catch(() => {});
    }
  }
}

/** What `applyRetention` deleted. */
export interface RetentionResult {
  snapshots: number;
  segments: number;
}

/**
 * Applies the rule after a new snapshot is durable: deletes snapshots older
 * than the two newest, then the segments before the older of the two.
 */
export async function applyRetention(
  dir: string,
  log: MetricsLog,
  onStep?: (step: RetentionStep) => void | Promise<void>,
): Promise<RetentionResult> {
  const snaps = await listSnapshots(dir);
  const result = { snapshots: 0, segments: 0 };
  if (snaps.length < 2) return result;
  for (const old of snaps.slice(2).reverse()) {
    await Deno.remove(old.path).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    result.snapshots++;
  }
  await onStep?.("snapshots-deleted");
  const keepFrom = snaps[1].segment;
  if (keepFrom > 0) {
    result.segments = await log.deleteBefore(
      keepFrom,
      () => onStep?.("segment-deleted"),
    );
  }
  await onStep?.("segments-deleted");
  return result;
}
