// Builds the query page: src/server/ui/main.ts (and what it imports: the
// bindings, codecs and PromQL parser) → build/ui/app.js with `deno
// bundle`, and copies index.html and style.css next to it. The server
// serves build/ui/ and build/engine.wasm; nothing is built at run time.
// Skips work when the outputs are newer than their sources.
import { copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build/ui");
const ui = join(root, "src/server/ui");
mkdirSync(out, { recursive: true });

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}
function mtime(p) {
  return statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

// Everything the bundle can reach.
const sources = Math.max(
  ...["src/server/ui", "src/bindings", "src/codec", "src/promql", "src/model"]
    .map((d) => newestMtime(join(root, d))),
  mtime(fileURLToPath(import.meta.url)),
);

const appPath = join(out, "app.js");
if (mtime(appPath) < sources) {
  const deno = join(root, "node_modules/.bin/deno");
  const r = spawnSync(
    statSync(deno, { throwIfNoEntry: false }) ? deno : "deno",
    [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      "-o",
      appPath,
      join(ui, "main.ts"),
    ],
    { stdio: "inherit" },
  );
  if (r.status !== 0) {
    console.error("query page bundle failed");
    process.exit(1);
  }
  console.error(`built ${appPath}`);
}
for (const name of ["index.html", "style.css"]) {
  const dst = join(out, name);
  if (mtime(dst) < mtime(join(ui, name))) copyFileSync(join(ui, name), dst);
}
