/**
 * The Tidemark server as `src/server/main.ts` starts it, plus a memory probe
 * for bench/memory/run.ts: on SIGUSR1 it appends one JSON line to
 * $TIDEMARK_MEM_PROBE with VmRSS/VmHWM, `Deno.memoryUsage()` and the
 * engine's linear memory size, then (when started with
 * `--v8-flags=--expose-gc`) the same after a full GC, so live memory and
 * garbage separate; then it resets VmHWM so the next line's peak is that
 * phase's. Bench-only: the product has no such hook.
 * @module
 */
import v8 from "node:v8";
import { parseFlags } from "../../src/server/flags.ts";
import { openPolicies } from "../../src/server/policies.ts";
import { TidemarkServer } from "../../src/server/server.ts";

const config = parseFlags(Deno.args);
if (config === "help" || "error" in config) {
  throw new Error(`bad flags: ${JSON.stringify(config)}`);
}
const out = Deno.env.get("TIDEMARK_MEM_PROBE");
if (!out) throw new Error("TIDEMARK_MEM_PROBE is not set");
const server = TidemarkServer.start(config, {
  policies: await openPolicies(config.authFile),
});
await server.ready;

function status(): { rss: number; hwm: number } {
  const s = Deno.readTextFileSync("/proc/self/status");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}

/** Committed bytes of V8's young generation, old and large-object spaces. */
function spaces(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_size > 0) out[s.space_name] = s.physical_space_size;
  }
  return out;
}

function sample() {
  const m = Deno.memoryUsage();
  const h = v8.getHeapStatistics();
  return {
    spaces: spaces(),
    v8Malloced: h.malloced_memory,
    ...status(),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    engine: server.db.engine.raw.memory.buffer.byteLength,
    chunks: server.db.tenants().reduce(
      (a, t) => a + server.db.head(t).chunkBytes(),
      0,
    ),
  };
}

/**
 * Resident memory by kind of mapping (/proc/self/smaps, KiB): the malloc
 * heap (`[heap]`, glibc's main arena: ArrayBuffer backing stores and the
 * runtime's Rust allocations), file-backed pages (the deno binary, libc),
 * the engine's linear memory (the anonymous mapping at the engine's size),
 * 64 MiB-aligned anonymous mappings (glibc thread arenas) and every other
 * anonymous mapping (V8's heap pages, stacks).
 */
function residentByKind(engineBytes: number): Record<string, number> {
  const out = { brk: 0, file: 0, engine: 0, arenas: 0, otherAnon: 0 };
  let kind: keyof typeof out = "otherAnon";
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(
      line,
    );
    if (head) {
      const from = parseInt(head[1], 16);
      const size = parseInt(head[2], 16) - from;
      const name = head[4];
      kind = name === "[heap]"
        ? "brk"
        : head[3] !== "0"
        ? "file"
        : size === engineBytes
        ? "engine"
        : from % (64 << 20) === 0 && name === ""
        ? "arenas"
        : "otherAnon";
    } else if (line.startsWith("Rss:")) {
      out[kind] += Number(/(\d+)/.exec(line)![1]) * 1024;
    }
  }
  return out;
}

// TIDEMARK_MEM_TRIM=1 (needs --allow-ffi): glibc's malloc_trim(0) after the
// GC, to measure how much of the malloc heap is freed-but-retained memory.
const trim = Deno.env.get("TIDEMARK_MEM_TRIM") === "1"
  ? Deno.dlopen("libc.so.6", {
    malloc_trim: { parameters: ["usize"], result: "i32" },
  })
  : null;

const gc = (globalThis as { gc?: () => void }).gc;
Deno.addSignalListener("SIGUSR1", async () => {
  const before = sample();
  gc?.();
  // Freed pages and backing stores are released by background threads.
  await new Promise((r) => setTimeout(r, 1000));
  trim?.symbols.malloc_trim(0n);
  const after = gc ? sample() : null;
  Deno.writeTextFileSync(
    out,
    JSON.stringify({
      before,
      afterGc: after,
      resident: residentByKind(before.engine),
    }) + "\n",
    { append: true },
  );
  // Reset VmHWM ("5" to clear_refs) so the next probe's peak is its phase's.
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch { /* not Linux */ }
});
// SIGUSR2: a heap snapshot next to the probe file (for bench/memory/heap_summary.py).
Deno.addSignalListener("SIGUSR2", () => {
  gc?.();
  v8.writeHeapSnapshot(`${out}.heapsnapshot`);
  Deno.writeTextFileSync(out + ".snapshot-done", "");
});
Deno.addSignalListener("SIGTERM", async () => {
  await server.close();
  Deno.exit(0);
});
console.log(JSON.stringify({ msg: "probe ready", port: server.port }));
