/**
 * Command-line flags (with environment fallbacks), as ../shared/CONTRACT.md
 * fixes them. `parseFlags` never exits: it returns the config or an error
 * message for main.ts to print.
 * @module
 */
import { z } from "zod";
import { parseCompoundDuration } from "../model/duration.ts";

/** Parses "15d", "2h", "90m", "30s", "1w", "1y", or a number of seconds, into ms. */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ms = parseCompoundDuration(text, true);
  if (ms === null) throw new Error(`cannot parse duration "${text}"`);
  return ms;
}

const duration = z.string().transform((s, ctx) => {
  try {
    return parseDuration(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  dataDir: z.string().min(1),
  authFile: z.string().min(1).optional(),
  retention: duration,
  oooWindow: duration,
});

/** The server's configuration. */
export type Config = z.infer<typeof schema>;

interface FlagSpec {
  key: keyof Config;
  flag: string;
  env: string;
  def?: string;
  help: string;
}

export const FLAGS: FlagSpec[] = [
  { key: "port", flag: "--port", env: "PORT", def: "9090", help: "TCP port" },
  {
    key: "host",
    flag: "--host",
    env: "HOST",
    def: "0.0.0.0",
    help: "listen address",
  },
  {
    key: "dataDir",
    flag: "--data-dir",
    env: "DATA_DIR",
    def: "./data",
    help: "all persistent state lives here",
  },
  {
    key: "authFile",
    flag: "--auth-file",
    env: "AUTH_FILE",
    help: "tenants and credentials (JSON); none: one tenant, no auth",
  },
  {
    key: "retention",
    flag: "--retention",
    env: "RETENTION",
    def: "15d",
    help: "samples older than this are dropped",
  },
  {
    key: "oooWindow",
    flag: "--ooo-window",
    env: "OOO_WINDOW",
    def: "1h",
    help: "how far back out-of-order samples are accepted",
  },
];

/** The --help text. */
export function helpText(): string {
  const lines = [
    "Usage: tidemark [flags]",
    "",
    "Flags (each also read from its environment variable):",
  ];
  for (const f of FLAGS) {
    lines.push(
      `  ${`${f.flag} <value>`.padEnd(24)} ${f.env.padEnd(11)} ${f.help}${
        f.def ? ` (default ${f.def})` : ""
      }`,
    );
  }
  lines.push(`  ${"--help".padEnd(24)} ${"".padEnd(11)} print this help`);
  return lines.join("\n");
}

/** Parses argv and env into a config, "help", or an error message. */
export function parseFlags(
  args: readonly string[],
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Config | "help" | { error: string } {
  const raw: Record<string, string | undefined> = {};
  for (const f of FLAGS) raw[f.key] = env(f.env) ?? f.def;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--help" || a === "-h") return "help";
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(0, eq) : a;
    const spec = FLAGS.find((f) => f.flag === name);
    if (!spec) return { error: `unknown flag ${name} (see --help)` };
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) return { error: `flag ${name} needs a value` };
    raw[spec.key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const spec = FLAGS.find((f) => f.key === issue.path[0]);
    return {
      error: `bad value for ${
        spec?.flag ?? issue.path.join(".")
      }: ${issue.message}`,
    };
  }
  return parsed.data;
}
