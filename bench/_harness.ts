/**
 * A thin layer over benny: each case declares how many items (samples,
 * inserts) one operation handles, and results are reported as items per
 * second from benny's median, with the machine they were measured on.
 * @module
 */
import b from "benny";

/** One benchmarked operation. */
export interface BenchCase {
  name: string;
  /** Items (samples, values) one call handles. */
  items: number;
  fn: () => unknown;
}

/** One measured case. */
export interface CaseResult {
  name: string;
  itemsPerSec: number;
  medianMs: number;
  marginPct: number;
  samples: number;
}

/** A suite's results plus figures that are not timings (bytes/sample, accuracy). */
export interface SuiteResult {
  suite: string;
  cases: CaseResult[];
  figures: Record<string, number>;
}

/** Runs the cases with benny and returns items/s from the median time. */
export async function runSuite(
  suite: string,
  cases: BenchCase[],
  figures: Record<string, number> = {},
): Promise<SuiteResult> {
  const items = new Map(cases.map((c) => [c.name, c.items]));
  let out: CaseResult[] = [];
  await b.suite(
    suite,
    ...cases.map((c) => b.add(c.name, c.fn)),
    b.cycle(),
    b.complete((summary: BennySummary) => {
      out = summary.results.map((r) => ({
        name: r.name,
        itemsPerSec: (items.get(r.name) ?? 1) / r.details.median,
        medianMs: r.details.median * 1e3,
        marginPct: r.margin,
        samples: r.samples,
      }));
    }),
  );
  return { suite, cases: out, figures };
}

interface BennySummary {
  results: {
    name: string;
    margin: number;
    samples: number;
    details: { median: number };
  }[];
}

/** The machine a run was measured on. */
export async function machine(): Promise<Record<string, string | number>> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/model name\s*:\s*(.*)/)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

/** Formats a rate like "123.4 M/s". */
export function rate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(1)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(1)} /s`;
}
