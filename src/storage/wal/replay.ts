/**
 * Replays a WAL directory: the newest checkpoint, then every segment after
 * it, in order. Bad data never throws and never yields a record: a bad
 * tail of the last segment is cut off (a crash mid-write), a bad spot in
 * an older segment or the checkpoint ends that file and is reported loudly.
 * @module
 */
import { join } from "node:path";
import {
  checkpointName,
  FILE_HEADER_SIZE,
  parseCheckpointName,
  parseSegmentName,
  segmentName,
} from "./format.ts";
import { type FileProblem, type RecordVisitor, scanFile } from "./reader.ts";

/** A problem replay met, and what it did about it. */
export interface ReplayProblem extends FileProblem {
  /** The file was truncated to `offset` (only ever the last segment's tail). */
  truncated: boolean;
}

/** What a replay read. */
export interface ReplayReport {
  /** Last segment the checkpoint replaced, or -1 without a checkpoint. */
  checkpoint: number;
  /** Segment numbers read, in order. */
  segments: number[];
  /** Records visited (TENANT records not counted). */
  records: number;
  series: number;
  samples: number;
  tombstones: number;
  /** Bytes of the files read. */
  bytes: number;
  problems: ReplayProblem[];
  /** Missing segment numbers between the first and last present. */
  gaps: number[];
  durationMs: number;
}

/** Options of `replay`. */
export interface ReplayOptions {
  /** Truncate a bad tail of the last segment (default true). */
  repair?: boolean;
  /** Print problems (console.warn for a torn tail, console.error otherwise; default true). */
  log?: boolean;
}

/** The files of a WAL directory. */
export interface WalListing {
  segments: number[];
  checkpoints: number[];
  temporary: string[];
}

/** Lists segments and checkpoints (ascending); a missing directory is empty. */
export async function listWal(dir: string): Promise<WalListing> {
  const out: WalListing = { segments: [], checkpoints: [], temporary: [] };
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const s = parseSegmentName(e.name);
      const c = parseCheckpointName(e.name);
      if (s >= 0) out.segments.push(s);
      else if (c >= 0) out.checkpoints.push(c);
      else if (e.name.endsWith(".tmp")) out.temporary.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  out.segments.sort((a, b) => a - b);
  out.checkpoints.sort((a, b) => a - b);
  return out;
}

/**
 * Calls `visit` for every record of the WAL in `dir`, in log order, and
 * reports what was read. The visitor may return a promise (awaited).
 */
export async function replay(
  dir: string,
  visit: RecordVisitor,
  opts: ReplayOptions = {},
): Promise<ReplayReport> {
  const repair = opts.repair ?? true;
  const log = opts.log ?? true;
  const t0 = performance.now();
  const listing = await listWal(dir);
  const report: ReplayReport = {
    checkpoint: -1,
    segments: [],
    records: 0,
    series: 0,
    samples: 0,
    tombstones: 0,
    bytes: 0,
    problems: [],
    gaps: [],
    durationMs: 0,
  };
  const counting: RecordVisitor = (rec, pos) => {
    report.records++;
    if (rec.kind === "samples") report.samples += rec.refs.length;
    else if (rec.kind === "series") report.series += rec.series.length;
    else if (rec.kind === "tombstones") report.tombstones++;
    return visit(rec, pos);
  };
  const note = (p: FileProblem, truncated: boolean, tail: boolean) => {
    report.problems.push({ ...p, truncated });
    if (!log) return;
    const what =
      `WAL: ${p.kind} data in ${p.file} at byte ${p.offset}: ${p.message}`;
    if (tail) {
      console.warn(`${what}; ${truncated ? "truncated" : "ignored"} the tail`);
    } else {
      console.error(`${what}; the rest of this file is SKIPPED (data lost)`);
    }
  };

  const cp = listing.checkpoints.at(-1);
  if (cp !== undefined) {
    report.checkpoint = cp;
    const path = join(dir, checkpointName(cp));
    let first = true;
    const res = await scanFile(path, (rec, pos) => {
      if (first && (rec.kind !== "checkpoint" || rec.covers !== cp)) {
        throw new BadCheckpoint(pos.offset);
      }
      first = false;
      return counting(rec, pos);
    }).catch((e) => {
      if (!(e instanceof BadCheckpoint)) throw e;
      return {
        size: 0,
        goodEnd: e.offset,
        problem: {
          file: path,
          offset: e.offset,
          kind: "corrupt" as const,
          message: "checkpoint does not start with its CHECKPOINT record",
        },
      };
    });
    report.bytes += res.size;
    if (!res.problem && first) {
      res.problem = {
        file: path,
        offset: res.goodEnd,
        kind: "corrupt",
        message: "checkpoint holds no CHECKPOINT record",
      };
    }
    if (res.problem) note(res.problem, false, false);
  }

  const segments = listing.segments.filter((s) => s > report.checkpoint);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (i > 0) {
      for (let g = segments[i - 1] + 1; g < seg; g++) report.gaps.push(g);
    }
    const path = join(dir, segmentName(seg));
    const res = await scanFile(path, counting);
    report.segments.push(seg);
    report.bytes += res.size;
    if (!res.problem) continue;
    const last = i === segments.length - 1;
    let truncated = false;
    if (last && repair) {
      await Deno.truncate(
        path,
        res.goodEnd < FILE_HEADER_SIZE ? 0 : res.goodEnd,
      );
      truncated = true;
    }
    note(res.problem, truncated, last);
  }
  if (report.gaps.length && log) {
    console.error(
      `WAL: segments missing from ${dir}: ${report.gaps.join(", ")}`,
    );
  }
  report.durationMs = performance.now() - t0;
  return report;
}

class BadCheckpoint extends Error {
  constructor(readonly offset: number) {
    super("bad checkpoint");
  }
}
