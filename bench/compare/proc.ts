/**
 * Process and file-system helpers for the side-by-side run: spawning peers
 * with their output in a log file, killing them (also when the run fails),
 * reading RSS and CPU time from /proc, free loopback ports, directory sizes.
 * @module
 */
import process from "node:process";

/** Processes started by this run, killed by `killAll` on any exit path. */
const live = new Set<Deno.ChildProcess>();

/** A started server process. */
export interface Spawned {
  proc: Deno.ChildProcess;
  pid: number;
  logPath: string;
}

/** Starts `cmd` with stdout and stderr appended to `logPath`. */
export async function spawnLogged(
  cmd: string,
  args: string[],
  logPath: string,
): Promise<Spawned> {
  const proc = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(proc);
  proc.status.finally(() => live.delete(proc));
  const log = await Deno.open(logPath, {
    create: true,
    write: true,
    append: true,
  });
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    try {
      for await (const chunk of stream) await log.write(chunk);
    } catch { /* the process is gone */ }
  };
  Promise.all([pump(proc.stdout), pump(proc.stderr)]).finally(() => {
    try {
      log.close();
    } catch { /* already closed */ }
  });
  return { proc, pid: proc.pid, logPath };
}

/** Stops a process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(
  proc: Deno.ChildProcess,
  graceMs = 10_000,
): Promise<void> {
  if (!live.has(proc)) return;
  try {
    proc.kill("SIGTERM");
  } catch { /* already exited */ }
  const done = await Promise.race([
    proc.status.then(() => true),
    sleep(graceMs).then(() => false),
  ]);
  if (!done) {
    try {
      proc.kill("SIGKILL");
    } catch { /* already exited */ }
    await proc.status;
  }
}

/** Kills every process this run started and is still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p, 3_000)));
}

/** The last lines of a log, for error messages. */
export async function logTail(path: string, lines = 20): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A loopback port nothing listens on right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v !== null && v !== undefined) return v;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

let clockTicks = 0;

/** Clock ticks per second of /proc/<pid>/stat times. */
async function ticksPerSecond(): Promise<number> {
  if (clockTicks) return clockTicks;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"] })
      .output();
    clockTicks = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** Resident set size of a process, bytes (/proc/<pid>/status VmRSS). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) in parentheses.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / await ticksPerSecond();
}

/** Sizes of the files under a directory. */
export interface DirSize {
  /** Sum of file lengths. */
  bytes: number;
  /** Sum of allocated blocks (what `du` shows). */
  allocated: number;
  files: number;
}

/** Sums file sizes under `path` (recursively); a file deleted meanwhile is skipped. */
export async function dirSize(path: string): Promise<DirSize> {
  const out: DirSize = { bytes: 0, allocated: 0, files: 0 };
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const e of entries) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) {
      const sub = await dirSize(p);
      out.bytes += sub.bytes;
      out.allocated += sub.allocated;
      out.files += sub.files;
    } else if (e.isFile) {
      try {
        const st = await Deno.stat(p);
        out.bytes += st.size;
        out.allocated += (st.blocks ?? 0) * 512;
        out.files++;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }
  return out;
}

/** Per-subdirectory sizes (top level only), for a breakdown. */
export async function dirBreakdown(
  path: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const e of Deno.readDir(path)) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) out[e.name] = (await dirSize(p)).bytes;
    else if (e.isFile) out[e.name] = (await Deno.stat(p)).size;
  }
  return out;
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat). */
export async function machineBusySeconds(): Promise<number> {
  const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0);
  return busy / await ticksPerSecond();
}

/** CPU seconds this process has used (user + system). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Peak resident set size of a process so far, bytes (/proc/<pid>/status VmHWM). */
export async function peakRssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
  if (!kb) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

/** 1, 5 and 15 min load averages (/proc/loadavg): the machine may be shared. */
export async function loadAverage(): Promise<number[]> {
  const text = await Deno.readTextFile("/proc/loadavg");
  return text.split(" ").slice(0, 3).map(Number);
}
