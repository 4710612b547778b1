/**
 * One JSON file per tenant under `<dataDir>/pushgateway/`, written
 * atomically (temp file, fsync, rename, directory fsync) so a crash
 * leaves either the old or the new state. Values are strings ("NaN",
 * "+Inf", "-0", or JavaScript's round-tripping decimal form).
 * @module
 */
import { z } from "zod";
import { labelsFrom } from "../../model/labels.ts";
import type { TenantId } from "../../storage/interface.ts";
import { formatGoFloat, parseGoFloat } from "../go_float.ts";
import { type Group, type GroupFamily } from "./group.ts";
import { groupingKey } from "./grouping.ts";

const VERSION = 1;

const FileSchema = z.object({
  version: z.literal(VERSION),
  tenant: z.string(),
  groups: z.array(z.object({
    labels: z.record(z.string(), z.string()),
    pushTime: z.number(),
    failureTime: z.number(),
    families: z.array(z.object({
      name: z.string(),
      type: z.enum(["counter", "gauge", "histogram", "summary", "untyped"]),
      help: z.string().optional(),
      samples: z.array(z.tuple([
        z.array(z.tuple([z.string(), z.string()])),
        z.string(),
      ])),
    })),
  })),
});

/** The file holding `tenant`'s groups (hex of its UTF-8 bytes: any tenant id is a safe name). */
export function stateFile(dir: string, tenant: TenantId): string {
  const hex = Array.from(
    new TextEncoder().encode(tenant),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return `${dir}/t-${hex}.json`;
}

/** Writes a tenant's groups atomically. */
export async function writeState(
  dir: string,
  tenant: TenantId,
  groups: Iterable<Group>,
): Promise<void> {
  const doc = {
    version: VERSION,
    tenant,
    groups: [...groups].map((g) => ({
      labels: g.key.labels,
      pushTime: g.pushTime,
      failureTime: g.failureTime,
      families: [...g.families.values()].map((f) => ({
        name: f.name,
        type: f.type,
        help: f.help,
        samples: f.samples.map((s) => [
          s.labels.map((l) => [l.name, l.value]),
          encodeValue(s.value),
        ]),
      })),
    })),
  };
  await Deno.mkdir(dir, { recursive: true });
  const path = stateFile(dir, tenant);
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(doc));
      for (let at = 0; at < bytes.length;) {
        at += await file.write(bytes.subarray(at));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
}

/** Reads every tenant's groups; a file that does not parse is an error naming it. */
export async function readStates(
  dir: string,
): Promise<Map<TenantId, Group[]>> {
  const out = new Map<TenantId, Group[]>();
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const entry of entries) {
    if (!entry.isFile) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.name.includes(".tmp-")) {
      await Deno.remove(path).catch(() => {}); // an interrupted write
      continue;
    }
    if (!/^t-[0-9a-f]*\.json$/.test(entry.name)) continue;
    let doc: z.infer<typeof FileSchema>;
    try {
      doc = FileSchema.parse(JSON.parse(await Deno.readTextFile(path)));
    } catch (e) {
      throw new Error(`pushgateway state ${path} is unreadable: ${e}`);
    }
    out.set(doc.tenant, doc.groups.map(decodeGroup));
  }
  return out;
}

function decodeGroup(
  g: z.infer<typeof FileSchema>["groups"][number],
): Group {
  const families = new Map<string, GroupFamily>();
  for (const f of g.families) {
    families.set(f.name, {
      name: f.name,
      type: f.type,
      ...(f.help === undefined ? {} : { help: f.help }),
      samples: f.samples.map(([pairs, v]) => ({
        labels: labelsFrom(pairs),
        value: decodeValue(v),
      })),
    });
  }
  return {
    key: groupingKey(g.labels),
    families,
    pushTime: g.pushTime,
    failureTime: g.failureTime,
  };
}

function encodeValue(v: number): string {
  if (Object.is(v, -0)) return "-0";
  return Number.isFinite(v) ? String(v) : formatGoFloat(v);
}

function decodeValue(s: string): number {
  const v = parseGoFloat(s);
  if (v === null) throw new Error(`bad value ${JSON.stringify(s)}`);
  return v;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}
