// Builds the query page: src/server/ui/main.ts (and what it imports: the
// bindings, codecs and PromQL parser) → build/ui/app.js with `deno
// bundle`, and copies index.html and style.css next to it. The server
// serves build/ui/ and build/engine.wasm; nothing is built at run time.
// Skips work when the outputs are newer than their sources.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForBrowser, mtime, newestMtime } from "./_build_util.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build/ui");
const ui = join(root, "src/server/ui");
mkdirSync(out, { recursive: true });

// Everything the bundle can reach.
const sources = Math.max(
  ...[
    "src/server/ui",
    "src/bindings",
    "src/codec",
    "src/promql",
    "src/model",
    "src/metricsapi",
  ]
    .map((d) => newestMtime(join(root, d))),
  mtime(fileURLToPath(import.meta.url)),
);

const appPath = join(out, "app.js");
if (mtime(appPath) < sources) {
  bundleForBrowser(root, join(ui, "main.ts"), appPath, "query page", true);
}
for (const name of ["index.html", "style.css"]) {
  const dst = join(out, name);
  if (mtime(dst) < mtime(join(ui, name))) copyFileSync(join(ui, name), dst);
}
