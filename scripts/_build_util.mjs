// Shared by the build scripts: modification times for "is it stale?", and
// `deno bundle` for browser builds.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

/** Newest mtime (ms) of files under `dir` ending in one of `exts` (all when omitted). */
export function newestMtime(dir, exts) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (!exts || exts.some((e) => p.endsWith(e))) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

/** A file's mtime (ms), 0 when it does not exist. */
export function mtime(p) {
  return statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** Bundles `entry` for browsers into `outPath` with the project's Deno; exits on failure. */
export function bundleForBrowser(root, entry, outPath, what, minify = false) {
  const deno = join(root, "node_modules/.bin/deno");
  const r = spawnSync(
    statSync(deno, { throwIfNoEntry: false }) ? deno : "deno",
    [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      ...(minify ? ["--minify"] : []),
      "-o",
      outPath,
      entry,
    ],
    { stdio: "inherit" },
  );
  if (r.status !== 0) {
    console.error(`${what} bundle failed`);
    process.exit(1);
  }
  console.error(`built ${outPath}`);
}
